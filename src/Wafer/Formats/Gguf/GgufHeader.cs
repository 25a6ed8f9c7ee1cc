using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.Gguf;

/// <summary>
/// Reads a GGUF v2/v3 header (magic, version, tensor and metadata counts, metadata key/values, tensor infos)
/// and returns each tensor's byte range. Metadata values are skipped, not kept, except <c>general.alignment</c>.
/// Counts are capped by the bytes left in the file before anything is allocated, strings and arrays are
/// checked against the file length, array nesting is bounded, and every tensor's size is computed with
/// overflow checks, must be aligned, inside the file and disjoint from the others.
/// </summary>
internal static class GgufHeader
{
    /// <summary>Alignment of the data section and tensors when <c>general.alignment</c> is absent.</summary>
    public const uint DefaultAlignment = 32;

    private const uint Magic = 0x46554747; // "GGUF" read little-endian
    private const int MaxDimensions = 4;
    private const ulong MaxTensorCount = 1 << 22;
    private const int MaxKeyLength = 65535;
    private const int MaxNameLength = 4096;
    private const int MaxArrayNesting = 8;
    private const uint MaxAlignment = 1 << 20;
    private const string AlignmentKey = "general.alignment";

    /// <summary>The tensor segments of the GGUF file <paramref name="path"/>, in the order the header lists them.</summary>
    public static List<LayoutSegment> Read(string path, SafeFileHandle file, long length)
    {
        var cursor = new GgufCursor(path, file, length);
        if (cursor.ReadUInt32() != Magic)
        {
            throw cursor.Bad("no GGUF magic");
        }

        uint version = cursor.ReadUInt32();
        if (version is not (2 or 3))
        {
            // Version 1 had 32-bit counts; a big-endian file reads as a huge version. Neither is supported.
            throw cursor.Bad($"version {version} is not 2 or 3");
        }

        ulong tensorCount = cursor.ReadUInt64();
        ulong metadataCount = cursor.ReadUInt64();

        // A key/value takes at least 13 bytes (length, type, one value byte); a tensor info at least 24.
        if (metadataCount > (ulong)cursor.Remaining / 13)
        {
            throw cursor.Bad($"{metadataCount} metadata entries cannot fit in the {cursor.Remaining} bytes left");
        }

        if (tensorCount > (ulong)cursor.Remaining / 24 || tensorCount > MaxTensorCount)
        {
            throw cursor.Bad($"{tensorCount} tensor infos cannot fit in the {cursor.Remaining} bytes left or exceed the {MaxTensorCount} limit");
        }

        uint alignment = DefaultAlignment;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < metadataCount; i++)
        {
            string key = cursor.ReadString(MaxKeyLength, "metadata key");
            if (!keys.Add(key))
            {
                throw cursor.Bad($"metadata key '{key}' appears twice");
            }

            var type = (GgufValueType)cursor.ReadUInt32();
            if (key == AlignmentKey)
            {
                alignment = ReadAlignment(cursor, type);
            }
            else
            {
                SkipValue(cursor, type, key, 0);
            }
        }

        var infos = new List<(string Name, long[] Dims, GgmlType Type, ulong Offset)>((int)Math.Min(tensorCount, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = cursor.ReadString(MaxNameLength, "tensor name");
            if (!names.Add(name))
            {
                throw cursor.Bad($"tensor '{name}' is declared twice");
            }

            uint rank = cursor.ReadUInt32();
            if (rank > MaxDimensions)
            {
                throw cursor.Bad($"tensor '{name}' has {rank} dimensions, more than {MaxDimensions}");
            }

            long[] dims = new long[rank];
            for (int d = 0; d < dims.Length; d++)
            {
                ulong dim = cursor.ReadUInt64();
                dims[d] = dim <= long.MaxValue ? (long)dim : throw cursor.Bad($"tensor '{name}' dimension {d} is {dim}");
            }

            uint typeId = cursor.ReadUInt32();
            GgmlType type = GgmlTypes.Find(typeId) ?? throw cursor.Bad($"tensor '{name}' has unknown ggml type {typeId}");
            infos.Add((name, dims, type, cursor.ReadUInt64()));
        }

        long dataStart = AlignUp(cursor.Position, alignment);
        if (dataStart > length)
        {
            throw cursor.Bad($"data section at {dataStart} starts past the end of the {length}-byte file");
        }

        var segments = new List<LayoutSegment>(infos.Count);
        foreach ((string name, long[] dims, GgmlType type, ulong offset) in infos)
        {
            long bytes = TensorBytes(cursor, name, dims, type);
            if (offset % alignment != 0)
            {
                throw cursor.Bad($"tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}");
            }

            if (offset > (ulong)(length - dataStart) || bytes > length - dataStart - (long)offset)
            {
                throw cursor.Bad($"tensor '{name}' [{offset}, +{bytes}) runs past the {length - dataStart}-byte data section");
            }

            // ggml lists ne[0] (the contiguous dimension) first; Wafer shapes are row-major, outermost first.
            long[] shape = [.. dims.Reverse()];
            segments.Add(new LayoutSegment(dataStart + (long)offset, bytes, new TensorDescriptor(name, type.Name, type.DType, shape)));
        }

        return segments;
    }

    private static uint ReadAlignment(GgufCursor cursor, GgufValueType type)
    {
        if (type != GgufValueType.UInt32)
        {
            throw cursor.Bad($"{AlignmentKey} has value type {type}, not UInt32");
        }

        uint alignment = cursor.ReadUInt32();
        if (alignment == 0 || alignment > MaxAlignment || (alignment & (alignment - 1)) != 0)
        {
            throw cursor.Bad($"{AlignmentKey} {alignment} is not a power of two up to {MaxAlignment}");
        }

        return alignment;
    }

    private static void SkipValue(GgufCursor cursor, GgufValueType type, string key, int nesting)
    {
        switch (type)
        {
            case GgufValueType.String:
                cursor.SkipString($"metadata '{key}' string");
                break;
            case GgufValueType.Array:
                {
                    if (nesting == MaxArrayNesting)
                    {
                        throw cursor.Bad($"metadata '{key}' nests arrays deeper than {MaxArrayNesting}");
                    }

                    var itemType = (GgufValueType)cursor.ReadUInt32();
                    ulong count = cursor.ReadUInt64();
                    int fixedSize = FixedSize(itemType);
                    if (fixedSize > 0)
                    {
                        if (count > (ulong)cursor.Remaining / (ulong)fixedSize)
                        {
                            throw cursor.Bad($"metadata '{key}' array of {count} × {fixedSize} bytes runs past the end of the file");
                        }

                        cursor.Skip(count * (ulong)fixedSize, $"metadata '{key}' array");
                        break;
                    }

                    // Strings take at least 8 bytes and arrays 12: a count beyond that is a lie, refused before looping.
                    ulong minimum = itemType == GgufValueType.String ? 8UL : itemType == GgufValueType.Array ? 12UL : 1UL;
                    if (count > (ulong)cursor.Remaining / minimum)
                    {
                        throw cursor.Bad($"metadata '{key}' array of {count} items cannot fit in the {cursor.Remaining} bytes left");
                    }

                    for (ulong i = 0; i < count; i++)
                    {
                        SkipValue(cursor, itemType, key, nesting + 1);
                    }

                    break;
                }

            default:
                int size = FixedSize(type);
                if (size == 0)
                {
                    throw cursor.Bad($"metadata '{key}' has unknown value type {(uint)type}");
                }

                cursor.Skip((ulong)size, $"metadata '{key}' value");
                break;
        }
    }

    private static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    private static long TensorBytes(GgufCursor cursor, string name, long[] dims, GgmlType type)
    {
        long contiguous = dims.Length > 0 ? dims[0] : 1;
        if (contiguous % type.BlockSize != 0)
        {
            throw cursor.Bad($"tensor '{name}' row of {contiguous} elements is not a whole number of {type.Name} blocks of {type.BlockSize}");
        }

        try
        {
            long bytes = checked(contiguous / type.BlockSize * type.BlockBytes);
            for (int d = 1; d < dims.Length; d++)
            {
                bytes = checked(bytes * dims[d]);
            }

            return bytes;
        }
        catch (OverflowException)
        {
            throw cursor.Bad($"tensor '{name}' shape [{string.Join(", ", dims)}] of {type.Name} overflows 64 bits");
        }
    }

    private static long AlignUp(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;
}
