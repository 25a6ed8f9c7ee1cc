using Microsoft.Win32.SafeHandles;
using Wafer.Formats.Safetensors;
using Wafer.Layout;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Formats.Safetensors;

public sealed class SafetensorsHeaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private SafetensorsHeader Read(byte[] file)
    {
        string path = _temp["t.safetensors"];
        File.WriteAllBytes(path, file);
        using SafeFileHandle handle = File.OpenHandle(path);
        return SafetensorsHeader.Read("t.safetensors", handle, file.Length);
    }

    private WaferDataException Rejects(byte[] file, string expectedFragment)
    {
        var error = Assert.ThrowsAny<WaferDataException>(() => Read(file));
        Assert.Contains("t.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, error.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void Known_answer_file_parses_to_the_declared_tensors_in_offset_order()
    {
        // Two tensors declared out of order; "b" comes first in the data section. Header padded with spaces to 8 bytes.
        string json = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}""";
        json += new string(' ', (8 - (json.Length % 8)) % 8);
        byte[] file = SafetensorsBuilder.FromHeader(json, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

        SafetensorsHeader header = Read(file);

        Assert.Equal(json.Length, header.HeaderLength);
        Assert.Equal(12, header.DataLength);
        Assert.Equal(["b", "a"], header.Tensors.Select(t => t.Name));
        Assert.Equal(DType.BF16, header.Tensors[0].Descriptor.DType);
        Assert.Equal((0L, 4L), (header.Tensors[0].Begin, header.Tensors[0].End));
        Assert.Equal(DType.F32, header.Tensors[1].Descriptor.DType);
        Assert.Equal("v", header.Metadata!["k"]);

        FileLayout layout = header.ToLayout("t.safetensors");
        Assert.Equal(
            [(0L, 8L + json.Length, (string?)null), (8L + json.Length, 4L, "b"), (12L + json.Length, 8L, "a")],
            layout.Segments.Select(s => (s.Offset, s.Length, s.Tensor?.Name)));
    }

    [Theory]
    [InlineData("F64", 8)]
    [InlineData("F32", 4)]
    [InlineData("F16", 2)]
    [InlineData("BF16", 2)]
    [InlineData("F8_E4M3", 1)]
    [InlineData("F8_E5M2", 1)]
    [InlineData("I64", 8)]
    [InlineData("I32", 4)]
    [InlineData("I16", 2)]
    [InlineData("I8", 1)]
    [InlineData("U64", 8)]
    [InlineData("U32", 4)]
    [InlineData("U16", 2)]
    [InlineData("U8", 1)]
    [InlineData("BOOL", 1)]
    public void Every_spec_dtype_is_known_with_its_element_size(string dtype, int size)
    {
        byte[] file = SafetensorsBuilder.FromHeader("{\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":[3],\"data_offsets\":[0," + (3 * size) + "]}}", new byte[3 * size]);

        SafetensorsEntry entry = Assert.Single(Read(file).Tensors);

        Assert.Equal(dtype, DTypes.Name(entry.Descriptor.DType));
        Assert.Equal(size, DTypes.Size(entry.Descriptor.DType));
    }

    [Fact]
    public void Unknown_dtype_is_kept_as_opaque_bytes_with_its_name()
    {
        byte[] file = SafetensorsBuilder.FromHeader("""{"q":{"dtype":"F4_E2M1","shape":[6],"data_offsets":[0,3]}}""", new byte[3]);

        SafetensorsEntry entry = Assert.Single(Read(file).Tensors);

        Assert.Equal(DType.Opaque, entry.Descriptor.DType);
        Assert.Equal("F4_E2M1", entry.Descriptor.DTypeName);
    }

    [Fact]
    public void Scalars_and_empty_tensors_are_accepted()
    {
        byte[] file = SafetensorsBuilder.FromHeader("""{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F16","shape":[0,5],"data_offsets":[4,4]}}""", new byte[4]);

        SafetensorsHeader header = Read(file);

        Assert.Equal(2, header.Tensors.Count);
        Assert.Empty(header.Tensors.Single(t => t.Name == "s").Descriptor.Shape);
        Assert.Equal(0, header.Tensors.Single(t => t.Name == "e").End - header.Tensors.Single(t => t.Name == "e").Begin);
    }

    [Fact]
    public void Header_length_over_the_cap_is_rejected_before_allocating()
    {
        byte[] file = SafetensorsBuilder.FromHeader("{}", [], declaredLength: 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Rejects(file, "exceeds");
    }

    [Fact]
    public void Header_length_past_the_end_of_the_file_is_rejected() =>
        Rejects(SafetensorsBuilder.FromHeader("{}", [], declaredLength: 4096), "runs past the end");

    [Fact]
    public void File_shorter_than_the_length_prefix_is_rejected() => Rejects([1, 2, 3], "shorter than");

    [Theory]
    [InlineData("""[1,2]""", "does not start with")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", "not valid JSON")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1]}}""", "lacks data_offsets")]
    [InlineData("""{"x":{"shape":[1],"data_offsets":[0,4]}}""", "lacks dtype")]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", "needs 8 bytes")]
    [InlineData("""{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "non-negative integer")]
    [InlineData("""{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}""", "overflows")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}""", "exactly two")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", "do not fit")]
    [InlineData("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "do not fit")]
    [InlineData("""{"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"y":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}""", "overlap")]
    [InlineData("""{"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"y":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}""", "hole")]
    [InlineData("""{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}""", "cover 2 bytes of the 4")]
    [InlineData("""{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"x":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}""", "declared twice")]
    [InlineData("""{"__metadata__":{"k":1},"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", "__metadata__ value")]
    [InlineData("""{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}} {}""", "not valid JSON")]
    public void Lying_headers_are_rejected_with_a_message_naming_the_problem(string json, string expected) =>
        Rejects(SafetensorsBuilder.FromHeader(json, new byte[4]), expected);

    [Theory]
    [InlineData("x")]
    [InlineData("U8")]
    [InlineData("v")]
    [InlineData("k")]
    public void A_header_with_invalid_utf8_is_rejected(string replaced)
    {
        // A tensor name, a dtype, a metadata value and key: each string is turned into UTF-16 somewhere.
        const string Json = """{"__metadata__":{"k":"v"},"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""";
        byte[] file = SafetensorsBuilder.FromHeader(Json, new byte[4]);
        int at = 8 + Json.IndexOf('"' + replaced + '"', StringComparison.Ordinal) + 1;
        file[at] = 0xE5;

        Rejects(file, "not valid UTF-8");
    }

    [Fact]
    public void Every_single_byte_corruption_of_the_header_parses_or_fails_cleanly()
    {
        // Masks 0x80 and 0xff make bytes that are not UTF-8 on their own, in every name, dtype and metadata string.
        byte[] file = SafetensorsBuilder.Dense(new Random(2), ("a.weight", "F32", [3], 4), ("b", "BF16", [2, 2], 2));
        int dataStart = 8 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file);

        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(
            new SafetensorsLayoutReader(),
            LayoutTestFile.ByteFlips(file[..dataStart], 0x01, 0x80, 0xff).Select(h => (byte[])[.. h, .. file[dataStart..]]),
            "t.safetensors");
    }

    [Fact]
    public void Every_truncation_of_a_valid_file_is_rejected_cleanly()
    {
        byte[] file = SafetensorsBuilder.Dense(new Random(1), ("a", "F32", [3], 4), ("b", "BF16", [2, 2], 2));
        for (int length = 0; length < file.Length; length++)
        {
            Assert.ThrowsAny<WaferDataException>(() => Read(file[..length]));
        }
    }
}
