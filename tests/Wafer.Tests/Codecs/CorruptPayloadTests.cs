using System.Buffers.Binary;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>Hostile payloads: truncated, bit-flipped, lying counts. Only <see cref="WaferDataException"/>, never a write past the destination.</summary>
[Trait("Category", "Kernels")]
public sealed class CorruptPayloadTests
{
    /// <summary>Codec, dtype, sample kind and element count: 16421 values make wide joint-mode float-split streams, whose final states keep raw bytes.</summary>
    public static TheoryData<string, DType, int, int> Cases => new()
    {
        { "float-split", DType.BF16, (int)ChunkSamples.Kind.Weights, 3000 },
        { "float-split", DType.F32, (int)ChunkSamples.Kind.DriftingScale, 3000 },
        { "float-split", DType.F16, (int)ChunkSamples.Kind.Specials, 3000 },
        { "float-split", DType.F64, (int)ChunkSamples.Kind.Weights, 3000 },
        { "float-split", DType.F8E4M3, (int)ChunkSamples.Kind.Weights, 3000 },
        { "palette", DType.F32, (int)ChunkSamples.Kind.FewValues, 3000 },
        { "sparse", DType.BF16, (int)ChunkSamples.Kind.MostlyZero, 3000 },
        { "sparse", DType.I32, (int)ChunkSamples.Kind.MostlyZero, 3000 },
        { "byte-planes", DType.I64, (int)ChunkSamples.Kind.Weights, 3000 },
        { "constant", DType.F32, (int)ChunkSamples.Kind.Constant, 3000 },
        { "zstd", DType.U8, (int)ChunkSamples.Kind.Weights, 3000 },
        { "raw", DType.U8, (int)ChunkSamples.Kind.Weights, 3000 },
        { "float-split", DType.BF16, (int)ChunkSamples.Kind.Weights, 16421 },
        { "float-split", DType.F32, (int)ChunkSamples.Kind.Weights, 16421 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Truncated_payloads_are_rejected(string codecName, DType dtype, int kind, int count)
    {
        (ChunkCodec codec, byte[] data, byte[] payload) = Encode(codecName, dtype, kind, count);
        int step = Math.Max(1, payload.Length / 400);
        for (int cut = 0; cut < payload.Length; cut += step)
        {
            byte[] truncated = payload.AsSpan(0, cut).ToArray();
            Assert.False(CodecAssert.DecodeDamaged(codec, truncated, dtype, data.Length), $"{codecName}: payload cut to {cut} of {payload.Length} bytes was accepted");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bit_flips_decode_or_fail_cleanly_and_header_flips_are_caught(string codecName, DType dtype, int kind, int count)
    {
        (ChunkCodec codec, byte[] data, byte[] payload) = Encode(codecName, dtype, kind, count);
        var rng = new Random(kind);
        int rejected = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] damaged = payload.ToArray();
            int at = trial < payload.Length && trial < 64 ? trial : rng.Next(payload.Length);
            damaged[at] ^= (byte)(1 << rng.Next(8));
            rejected += CodecAssert.DecodeDamaged(codec, damaged, dtype, data.Length) ? 0 : 1;
        }

        // Raw and constant payloads have no redundancy to check; every coded format must notice damage.
        if (codec is not RawCodec and not ConstantCodec)
        {
            Assert.True(rejected > 0, $"{codecName}: no damaged payload was rejected");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trailing_garbage_is_rejected(string codecName, DType dtype, int kind, int count)
    {
        (ChunkCodec codec, byte[] data, byte[] payload) = Encode(codecName, dtype, kind, count);
        byte[] longer = [.. payload, 0x00, 0x42];
        Assert.False(CodecAssert.DecodeDamaged(codec, longer, dtype, data.Length), $"{codecName}: trailing bytes were accepted");
    }

    [Fact]
    public void Lying_counts_in_the_float_split_header_are_rejected()
    {
        byte[] data = ChunkSamples.Make(DType.BF16, 5000, ChunkSamples.Kind.Weights, 3);
        byte[] payload = Encode(FloatSplitCodec.Instance, data, DType.BF16);

        // Value count (LEB128 after the version byte) one lower and one higher than the chunk.
        foreach (int delta in new[] { -1, 1 })
        {
            byte[] lie = payload.ToArray();
            int count = (lie[1] & 0x7F) | (lie[2] << 7);
            count += delta;
            lie[1] = (byte)((count & 0x7F) | 0x80);
            lie[2] = (byte)(count >> 7);
            Assert.Throws<WaferDataException>(() => CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, lie, DType.BF16, data.Length));
        }

        // Unknown version, unknown mode, impossible mantissa split.
        foreach ((int offset, byte value) in new[] { (0, (byte)9), (3, (byte)7), (4, (byte)200) })
        {
            byte[] lie = payload.ToArray();
            lie[offset] = value;
            Assert.Throws<WaferDataException>(() => CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, lie, DType.BF16, data.Length));
        }
    }

    [Fact]
    public void A_stream_length_counting_its_own_field_is_rejected()
    {
        // The length must be checked against the bytes after it, not the bytes from where it starts.
        byte[] symbols = Enumerable.Range(0, 40).Select(i => (byte)(i % 5)).ToArray();
        byte[] buffer = new byte[1000];
        int end = 0;
        Assert.True(Wafer.Codecs.Entropy.ByteStreamCoder.TryEncode(symbols, buffer, ref end));
        int lengthAt = 0;
        Wafer.Codecs.Entropy.FrequencyTable.Read(buffer, ref lengthAt, new ushort[256], "test");
        Assert.True(buffer[lengthAt] < 0x7F);
        byte[] lie = buffer.AsSpan(0, end).ToArray();
        lie[lengthAt] = (byte)(end - lengthAt);
        int pos = 0;
        Assert.Throws<WaferDataException>(() => Wafer.Codecs.Entropy.ByteStreamCoder.Decode(lie, ref pos, new byte[40], "test"));
    }

    [Fact]
    public void A_palette_index_outside_the_palette_is_rejected()
    {
        // Three entries; the index stream is rebuilt by hand to name entry 5.
        byte[] data = new byte[4 * 100];
        for (int i = 0; i < 100; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), i % 3);
        }

        byte[] payload = Encode(PaletteCodec.Instance, data, DType.F32);
        byte[] forged = new byte[payload.Length + 600];
        int pos = 1 + 1 + 1 + 12;
        payload.AsSpan(0, pos).CopyTo(forged);
        byte[] indices = Enumerable.Repeat((byte)5, 100).ToArray();
        Assert.True(Wafer.Codecs.Entropy.ByteStreamCoder.TryEncode(indices, forged, ref pos));
        Assert.Throws<WaferDataException>(() => CodecAssert.DecodeGuarded(PaletteCodec.Instance, forged.AsSpan(0, pos).ToArray(), DType.F32, data.Length));
    }

    [Fact]
    public void Decoding_with_the_wrong_dtype_fails_cleanly()
    {
        byte[] data = ChunkSamples.Make(DType.F32, 1000, ChunkSamples.Kind.Weights, 5);
        byte[] payload = Encode(FloatSplitCodec.Instance, data, DType.F32);
        Assert.Throws<WaferDataException>(() => CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, payload, DType.I32, data.Length));
        Assert.False(CodecAssert.DecodeDamaged(FloatSplitCodec.Instance, payload, DType.BF16, data.Length));
    }

    private static (ChunkCodec Codec, byte[] Data, byte[] Payload) Encode(string codecName, DType dtype, int kind, int count)
    {
        ChunkCodec codec = CodecRegistry.Find(codecName)!;
        byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, 17);
        return (codec, data, Encode(codec, data, dtype));
    }

    private static byte[] Encode(ChunkCodec codec, byte[] data, DType dtype)
    {
        byte[] buffer = new byte[data.Length + CodecSelector.Slack];
        int written = codec.Encode(data, new ChunkContext(dtype), buffer);
        Assert.True(written >= 0, $"{codec.Name} declined the test input");
        return buffer.AsSpan(0, written).ToArray();
    }
}
