using Wafer.Formats.Gguf;
using Wafer.Layout;

namespace Wafer.Tests.Formats.Gguf;

public sealed class GgufLayoutReaderTests
{
    // GGUF metadata value types and ggml tensor types, numbered as the specification numbers them.
    private const uint UInt8 = 0, Int32 = 5, Float32 = 6, Bool = 7, StringType = 8, ArrayType = 9, UInt64 = 10, Float64 = 12, UInt32 = 4;
    private const uint TypeF32 = 0, TypeF16 = 1, TypeQ4_0 = 2;

    private static readonly GgufLayoutReader s_reader = new();

    /// <summary>
    /// A v3 file with metadata of several types (nested array included) and three tensors: F32 [ne0=3, ne1=2]
    /// at 0, F16 [5] at 32, Q4_0 [64, 2] (2 rows of 2 blocks of 18 bytes) at 64, with padding between and after.
    /// </summary>
    internal static (byte[] File, long DataStart) ThreeTensorFile(uint alignment = 32, Action<GgufWriter>? extraMetadata = null, int extraCount = 0)
    {
        var w = new GgufWriter().Header(3, 3, (ulong)(8 + (alignment == 32 ? 0 : 1) + extraCount));
        w.Key("general.architecture", StringType).Text("llama");
        w.Key("general.name", StringType).Text("tiny ✓");
        w.Key("llama.block_count", UInt32).U32(1);
        w.Key("llama.context_length", UInt64).U64(4096);
        w.Key("llama.rope.freq_base", Float32).F32(10000f);
        w.Key("tokenizer.ggml.add_bos_token", Bool).U8(1);
        w.Key("tokenizer.ggml.tokens", ArrayType).U32(StringType).U64(3).Text("<s>").Text("</s>").Text("a");
        w.Key("test.nested", ArrayType).U32(ArrayType).U64(2)
            .U32(Int32).U64(2).I32(-1).I32(7)
            .U32(Float64).U64(1).F64(0.5);
        if (alignment != 32)
        {
            w.Key("general.alignment", UInt32).U32(alignment);
        }

        extraMetadata?.Invoke(w);
        w.TensorInfo("token_embd.weight", [3, 2], TypeF32, 0);
        w.TensorInfo("output_norm.weight", [5], TypeF16, alignment);
        w.TensorInfo("blk.0.attn_q.weight", [64, 2], TypeQ4_0, 2 * alignment);
        w.Pad((int)alignment);
        long dataStart = w.Position;
        w.Bytes(Fill(24, 1)).Pad((int)alignment);
        w.Bytes(Fill(10, 2)).Pad((int)alignment);
        w.Bytes(Fill(72, 3)).Pad((int)alignment);
        return (w.ToArray(), dataStart);
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    public void Hand_built_v3_file_splits_into_header_tensors_and_padding(uint alignment)
    {
        (byte[] file, long ds) = ThreeTensorFile(alignment);
        long a = alignment;

        FileLayout layout = LayoutTestFile.Read(s_reader, file, "tiny.gguf");

        Assert.Equal("gguf", layout.Format);
        LayoutTestFile.AssertTiles(layout, file);
        Assert.Equal(0, ds % a);
        Assert.Equal(
            [(0L, ds, (string?)null), (ds, 24, "token_embd.weight"), (ds + 24, a - 24, null), (ds + a, 10, "output_norm.weight"),
             (ds + a + 10, a - 10, null), (ds + (2 * a), 72, "blk.0.attn_q.weight"), (ds + (2 * a) + 72, file.Length - ds - (2 * a) - 72, null)],
            layout.Segments.Select(static s => (s.Offset, s.Length, s.Tensor?.Name)));
        TensorDescriptor embd = layout.Segments[1].Tensor!, norm = layout.Segments[3].Tensor!, q = layout.Segments[5].Tensor!;
        AssertTensor(embd, "F32", DType.F32, [2, 3]);
        AssertTensor(norm, "F16", DType.F16, [5]);
        AssertTensor(q, "Q4_0", DType.Opaque, [2, 64]);
    }

    [Fact]
    public void Detector_claims_gguf_by_magic_and_keeps_malformed_files_opaque()
    {
        (byte[] file, _) = ThreeTensorFile();
        byte[] broken = (byte[])file.Clone();
        broken[4] = 9; // version 9

        Assert.Equal("gguf", LayoutTestFile.Detect(file, "model.bin").Format);
        Assert.Equal("blob", LayoutTestFile.Detect(broken, "model.gguf").Format);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(0x03000000u)] // a big-endian v3 file read little-endian
    public void Unsupported_versions_are_refused(uint version)
    {
        byte[] file = new GgufWriter().Header(version, 0, 0).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Metadata_string_of_two_to_the_sixtieth_bytes_is_refused_without_allocating()
    {
        byte[] file = new GgufWriter().Header(3, 0, 1).Key("general.name", StringType).U64(1UL << 60).ToArray();

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));

        Assert.Contains("1152921504606846976", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_of_two_to_the_sixtieth_bytes_is_refused()
    {
        byte[] file = new GgufWriter().Header(3, 0, 1).U64(1UL << 60).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Theory]
    [InlineData(UInt32, 1UL << 62)]
    [InlineData(StringType, 1UL << 40)]
    [InlineData(ArrayType, ulong.MaxValue)]
    public void Array_count_that_cannot_fit_is_refused_before_looping(uint itemType, ulong count)
    {
        byte[] file = new GgufWriter().Header(3, 0, 1).Key("tokenizer.ggml.scores", ArrayType).U32(itemType).U64(count).U64(0).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Arrays_nested_too_deep_are_refused()
    {
        var w = new GgufWriter().Header(3, 0, 1).Key("deep", ArrayType);
        for (int i = 0; i < 20; i++)
        {
            w.U32(ArrayType).U64(1);
        }

        byte[] file = w.U32(UInt8).U64(0).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Counts_that_lie_are_refused()
    {
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, new GgufWriter().Header(3, 1UL << 40, 0).ToArray()));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, new GgufWriter().Header(3, 0, ulong.MaxValue).ToArray()));
    }

    [Theory]
    [InlineData(1024UL, TypeF32, new ulong[] { 4 })] // offset out of range
    [InlineData(16UL, TypeF32, new ulong[] { 4 })] // not a multiple of the alignment
    [InlineData(0UL, 4u, new ulong[] { 4 })] // Q4_2: removed from GGUF
    [InlineData(0UL, 99u, new ulong[] { 4 })] // no such type
    [InlineData(0UL, TypeQ4_0, new ulong[] { 33 })] // not a whole number of 32-element blocks
    [InlineData(0UL, TypeF32, new ulong[] { 1UL << 40, 1UL << 40 })] // size overflows 64 bits
    [InlineData(0UL, TypeF32, new ulong[] { 1, 1, 1, 1, 1 })] // five dimensions
    [InlineData(0UL, TypeF32, new ulong[] { ulong.MaxValue })]
    public void Bad_tensor_info_is_refused(ulong offset, uint type, ulong[] dims)
    {
        var w = new GgufWriter().Header(3, 1, 0).TensorInfo("t", dims, type, offset).Pad(32);
        byte[] file = w.Bytes(new byte[64]).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Overlapping_and_duplicate_tensors_are_refused()
    {
        byte[] overlap = new GgufWriter().Header(3, 2, 0)
            .TensorInfo("a", [16], TypeF32, 0).TensorInfo("b", [4], TypeF32, 32).Pad(32).Bytes(new byte[128]).ToArray();
        byte[] duplicate = new GgufWriter().Header(3, 2, 0)
            .TensorInfo("a", [4], TypeF32, 0).TensorInfo("a", [4], TypeF32, 32).Pad(32).Bytes(new byte[64]).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, overlap));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, duplicate));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(24u)]
    public void Alignment_that_is_not_a_power_of_two_is_refused(uint alignment)
    {
        byte[] file = new GgufWriter().Header(3, 0, 1).Key("general.alignment", UInt32).U32(alignment).ToArray();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Tensor_larger_than_four_gibibytes_in_a_sparse_file_is_sized_with_64_bit_arithmetic()
    {
        // One F32 tensor of 2^31 elements (8 GiB) after a second, small one: offsets and sizes beyond 32 bits.
        byte[] header = new GgufWriter().Header(3, 2, 0)
            .TensorInfo("big", [1UL << 16, 1UL << 15], TypeF32, 0).TensorInfo("after", [8], TypeF16, 8UL << 30).Pad(32).ToArray();
        string directory = Path.Combine(Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "big.gguf");
        try
        {
            using (var stream = new FileStream(path, FileMode.CreateNew))
            {
                stream.Write(header);
                stream.SetLength(header.Length + (8L << 30) + 16);
            }

            FileLayout layout = LayoutTestFile.ReadFile(s_reader, path);

            Assert.Equal(
                [(0L, (long)header.Length, (string?)null), (header.Length, 8L << 30, "big"), (header.Length + (8L << 30), 16, "after")],
                layout.Segments.Select(static s => (s.Offset, s.Length, s.Tensor?.Name)));
            Assert.Equal([1L << 15, 1L << 16], layout.Segments[1].Tensor!.Shape);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Every_truncation_fails_cleanly()
    {
        (byte[] file, _) = ThreeTensorFile(64);

        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.Truncations(file), "t.gguf");
    }

    [Fact]
    public void Every_single_byte_corruption_parses_or_fails_cleanly()
    {
        (byte[] file, long dataStart) = ThreeTensorFile();

        // Header bytes only: flipping tensor data changes nothing the reader looks at.
        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.ByteFlips(file[..(int)dataStart], 0x01, 0x80, 0xff).Select(h => (byte[])[.. h, .. file[(int)dataStart..]]), "t.gguf");
    }

    private static void AssertTensor(TensorDescriptor tensor, string dtypeName, DType dtype, long[] shape)
    {
        Assert.Equal(dtypeName, tensor.DTypeName);
        Assert.Equal(dtype, tensor.DType);
        Assert.Equal(shape, tensor.Shape);
    }

    private static byte[] Fill(int length, byte seed)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + (i * 7));
        }

        return bytes;
    }
}
