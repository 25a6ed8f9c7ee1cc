using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.Safetensors;

/// <summary>
/// A parsed and fully validated safetensors header. Every declared length and offset is checked against the
/// file before anything is allocated: header length capped and within the file, shape × dtype size computed
/// with overflow checks and equal to the byte range, ranges in bounds, non-overlapping and tiling the data
/// section exactly, as the specification requires.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The largest header Wafer accepts (the reference implementation uses the same 100 MB cap).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const int MaxShapeRank = 64;

    private SafetensorsHeader(long headerLength, long dataLength, IReadOnlyList<SafetensorsEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        HeaderLength = headerLength;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Length of the JSON header (the 8-byte length prefix excluded).</summary>
    public long HeaderLength { get; }

    /// <summary>Offset of the data section: 8 + <see cref="HeaderLength"/>.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>Length of the data section.</summary>
    public long DataLength { get; }

    /// <summary>The tensors, ordered by their data offset.</summary>
    public IReadOnlyList<SafetensorsEntry> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map, or null when the header has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>Reads and validates the header of the safetensors file <paramref name="path"/>.</summary>
    public static SafetensorsHeader Read(string path, SafeFileHandle file, long length)
    {
        if (length < 8)
        {
            throw Bad(path, $"file is {length} bytes, shorter than the 8-byte header length prefix");
        }

        Span<byte> prefix = stackalloc byte[8];
        RandomAccess.Read(file, prefix, 0);
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared > MaxHeaderLength)
        {
            throw Bad(path, $"header length {declared} exceeds the {MaxHeaderLength}-byte limit");
        }

        if ((long)declared > length - 8)
        {
            throw Bad(path, $"header length {declared} runs past the end of the {length}-byte file");
        }

        byte[] json = new byte[(int)declared];
        int read = RandomAccess.Read(file, json, 8);
        if (read != json.Length)
        {
            throw Bad(path, $"header is truncated: read {read} of {json.Length} bytes");
        }

        return Parse(path, json, length);
    }

    /// <summary>Validates a header whose JSON bytes are <paramref name="json"/> in a file of <paramref name="fileLength"/> bytes.</summary>
    public static SafetensorsHeader Parse(string path, ReadOnlySpan<byte> json, long fileLength)
    {
        long dataLength = fileLength - 8 - json.Length;
        if (dataLength < 0)
        {
            throw Bad(path, $"header length {json.Length} runs past the end of the {fileLength}-byte file");
        }

        // The reader checks UTF-8 only when it turns a string into UTF-16, and then throws InvalidOperationException.
        if (!Utf8.IsValid(json))
        {
            throw Bad(path, "header is not valid UTF-8");
        }

        if (json.Length == 0 || json[0] != (byte)'{')
        {
            throw Bad(path, "header does not start with '{'");
        }

        var tensors = new List<SafetensorsEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, path, "header");
            while (Next(ref reader, path) && reader.TokenType != JsonTokenType.EndObject)
            {
                string name = reader.GetString()!;
                if (!names.Add(name))
                {
                    throw Bad(path, $"tensor '{name}' is declared twice");
                }

                if (name == "__metadata__")
                {
                    metadata = ReadMetadata(ref reader, path);
                    continue;
                }

                if (name.Length == 0)
                {
                    throw Bad(path, "a tensor has an empty name");
                }

                tensors.Add(ReadEntry(ref reader, path, name, dataLength));
            }

            // Anything after the closing brace must be the padding spaces the format allows.
            if (reader.Read())
            {
                throw Bad(path, "header has content after its closing '}'");
            }
        }
        catch (JsonException e)
        {
            throw new WaferDataException($"{path}: safetensors header is not valid JSON: {e.Message}", e);
        }

        tensors.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        foreach (SafetensorsEntry entry in tensors)
        {
            if (entry.Begin < position)
            {
                throw Bad(path, $"tensor '{entry.Name}': data_offsets [{entry.Begin}, {entry.End}] overlap the previous tensor, which ends at {position}");
            }

            if (entry.Begin > position)
            {
                throw Bad(path, $"tensor '{entry.Name}': data_offsets start at {entry.Begin}, leaving a hole after {position}");
            }

            position = entry.End;
        }

        if (position != dataLength)
        {
            throw Bad(path, $"tensors cover {position} bytes of the {dataLength}-byte data section");
        }

        return new SafetensorsHeader(json.Length, dataLength, tensors, metadata);
    }

    /// <summary>The file's layout: the header bytes verbatim, then each tensor's data in file order.</summary>
    public FileLayout ToLayout(string path)
    {
        var segments = new List<LayoutSegment>(Tensors.Count + 1) { new(0, DataStart, null) };
        foreach (SafetensorsEntry entry in Tensors)
        {
            segments.Add(new LayoutSegment(DataStart + entry.Begin, entry.End - entry.Begin, entry.Descriptor));
        }

        return new FileLayout(path, "safetensors", DataStart + DataLength, segments);
    }

    private static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string path, string name, long dataLength)
    {
        Expect(ref reader, JsonTokenType.StartObject, path, $"tensor '{name}'");
        string? dtype = null;
        long[]? shape = null;
        long begin = -1, end = -1;
        while (Next(ref reader, path) && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            switch (key)
            {
                case "dtype":
                    Expect(ref reader, JsonTokenType.String, path, $"tensor '{name}' dtype");
                    dtype = reader.GetString();
                    break;
                case "shape":
                    shape = ReadShape(ref reader, path, name);
                    break;
                case "data_offsets":
                    Expect(ref reader, JsonTokenType.StartArray, path, $"tensor '{name}' data_offsets");
                    begin = ReadOffset(ref reader, path, name);
                    end = ReadOffset(ref reader, path, name);
                    Expect(ref reader, JsonTokenType.EndArray, path, $"tensor '{name}' data_offsets (exactly two numbers)");
                    break;
                default:
                    reader.Read();
                    reader.Skip();
                    break;
            }
        }

        if (dtype is null || shape is null || begin < 0)
        {
            throw Bad(path, $"tensor '{name}' lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        }

        if (end < begin || end > dataLength)
        {
            throw Bad(path, $"tensor '{name}': data_offsets [{begin}, {end}] do not fit the {dataLength}-byte data section");
        }

        bool known = DTypes.TryParse(dtype, out DType type);
        if (known)
        {
            long bytes;
            try
            {
                long elements = 1;
                foreach (long dim in shape)
                {
                    elements = checked(elements * dim);
                }

                bytes = checked(elements * DTypes.Size(type));
            }
            catch (OverflowException)
            {
                throw Bad(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] × {dtype} overflows 64 bits");
            }

            if (bytes != end - begin)
            {
                throw Bad(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
            }
        }

        return new SafetensorsEntry(new TensorDescriptor(name, dtype, type, shape), begin, end);
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string path, string name)
    {
        Expect(ref reader, JsonTokenType.StartArray, path, $"tensor '{name}' shape");
        var dims = new List<long>();
        while (Next(ref reader, path) && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long dim) || dim < 0)
            {
                throw Bad(path, $"tensor '{name}': shape holds something other than a non-negative integer");
            }

            if (dims.Count == MaxShapeRank)
            {
                throw Bad(path, $"tensor '{name}': shape has more than {MaxShapeRank} dimensions");
            }

            dims.Add(dim);
        }

        return [.. dims];
    }

    private static long ReadOffset(ref Utf8JsonReader reader, string path, string name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
        {
            throw Bad(path, $"tensor '{name}': data_offsets must be two non-negative integers");
        }

        return value;
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader reader, string path)
    {
        Expect(ref reader, JsonTokenType.StartObject, path, "__metadata__");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref reader, path) && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            Expect(ref reader, JsonTokenType.String, path, $"__metadata__ value of '{key}'");
            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw Bad(path, $"__metadata__ key '{key}' appears twice");
            }
        }

        return metadata;
    }

    private static bool Next(ref Utf8JsonReader reader, string path) =>
        reader.Read() ? true : throw Bad(path, "header JSON ends early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string path, string what)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw Bad(path, $"{what} is not a JSON {type switch { JsonTokenType.StartObject => "object", JsonTokenType.StartArray => "array", JsonTokenType.EndArray => "array end", _ => type.ToString().ToLowerInvariant() }}");
        }
    }

    private static WaferDataException Bad(string path, string problem) => new($"{path}: invalid safetensors: {problem}.");

    /// <summary>Renders a header for the given tensors (used by <c>extract</c>); offsets are laid out densely in order.</summary>
    internal static byte[] Build(IReadOnlyList<TensorDescriptor> tensors, IReadOnlyList<long> byteLengths, IReadOnlyDictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (KeyValuePair<string, string> pair in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(pair.Key, pair.Value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            for (int i = 0; i < tensors.Count; i++)
            {
                writer.WriteStartObject(tensors[i].Name);
                writer.WriteString("dtype", tensors[i].DTypeName);
                writer.WriteStartArray("shape");
                foreach (long dim in tensors[i].Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += byteLengths[i];
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        int padded = (int)((stream.Length + 7) / 8 * 8);
        byte[] result = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        stream.GetBuffer().AsSpan(0, (int)stream.Length).CopyTo(result.AsSpan(8));
        result.AsSpan(8 + (int)stream.Length).Fill((byte)' ');
        return result;
    }

}
