using System.Buffers;
using System.Buffers.Binary;
using Wafer.Codecs.Entropy;

namespace Wafer.Codecs;

/// <summary>
/// A chunk with at most 256 distinct element values (dequantised int4/int8 weights, masks, small enumerations):
/// the sorted distinct values, then each element's index into them, rANS-coded. Layout in docs/CODECS.md.
/// </summary>
internal sealed class PaletteCodec : ChunkCodec
{
    public static readonly PaletteCodec Instance = new();

    private const byte Version = 2;

    /// <summary>Most distinct values a palette holds: indices are one byte.</summary>
    public const int MaxEntries = 256;

    public override string Name => "palette";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (source.Length == 0 || source.Length % size != 0)
        {
            return -1;
        }

        int n = source.Length / size;
        Span<ulong> palette = stackalloc ulong[MaxEntries];
        int entries = 0;

        // The distinct values in an open-addressing set of 1024 slots (four times the most it may hold); each slot
        // later learns its value's index in the sorted palette.
        Span<ulong> keys = stackalloc ulong[Slots];
        Span<short> index = stackalloc short[Slots];
        index.Fill(-1);
        for (int i = 0; i < n; i++)
        {
            ulong v = Load(source, i, size);
            int slot = Find(keys, index, v);
            if (index[slot] < 0)
            {
                if (entries == MaxEntries)
                {
                    return -1;
                }

                keys[slot] = v;
                index[slot] = 0;
                palette[entries++] = v;
            }
        }

        palette = palette[..entries];
        palette.Sort();
        for (int e = 0; e < entries; e++)
        {
            index[Find(keys, index, palette[e])] = (short)e;
        }

        int pos = 0;
        if (destination.Length < 16 + (entries * size))
        {
            return -1;
        }

        destination[pos++] = Version;
        VarInt.TryWrite(destination, ref pos, (ulong)n);
        VarInt.TryWrite(destination, ref pos, (ulong)entries);
        foreach (ulong v in palette)
        {
            Store(destination[pos..], 0, size, v);
            pos += size;
        }

        byte[] indices = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                indices[i] = (byte)index[Find(keys, index, Load(source, i, size))];
            }

            return ByteStreamCoder.TryEncode(indices.AsSpan(0, n), destination, ref pos) ? pos : -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(indices);
        }
    }

    /// <summary>Slots of the encoder's value set.</summary>
    private const int Slots = 1024;

    /// <summary>The slot holding <paramref name="value"/>, or the empty slot (index -1) where it would go.</summary>
    private static int Find(ReadOnlySpan<ulong> keys, ReadOnlySpan<short> index, ulong value)
    {
        int slot = (int)((value * 0x9E3779B97F4A7C15UL) >> 54);
        while (index[slot] >= 0 && keys[slot] != value)
        {
            slot = (slot + 1) & (Slots - 1);
        }

        return slot;
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (destination.Length % size != 0)
        {
            throw new WaferDataException($"palette chunk of {destination.Length} bytes is not a whole number of {size}-byte elements");
        }

        if (source.Length < 1 || source[0] != Version)
        {
            throw new WaferDataException(source.Length < 1 ? "palette payload is empty" : $"palette payload has unknown version {source[0]}");
        }

        int pos = 1;
        int n = destination.Length / size;
        int declared = VarInt.ReadInt(source, ref pos, int.MaxValue, "palette element count");
        if (declared != n)
        {
            throw new WaferDataException($"palette payload holds {declared} elements, the chunk has {n}");
        }

        int entries = VarInt.ReadInt(source, ref pos, MaxEntries, "palette entry count");
        if (entries == 0 || source.Length - pos < entries * size)
        {
            throw new WaferDataException($"palette of {entries} entries does not fit the {source.Length}-byte payload");
        }

        Span<ulong> palette = stackalloc ulong[MaxEntries];
        for (int e = 0; e < entries; e++)
        {
            palette[e] = Load(source[pos..], e, size);
            if (e > 0 && palette[e] <= palette[e - 1])
            {
                throw new WaferDataException($"palette entry {e} is not above entry {e - 1}: entries must be distinct and sorted");
            }
        }

        pos += entries * size;
        byte[] indices = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            ByteStreamCoder.Decode(source, ref pos, indices.AsSpan(0, n), "palette index");
            if (pos != source.Length)
            {
                throw new WaferDataException($"palette payload has {source.Length - pos} bytes after its index stream");
            }

            for (int i = 0; i < n; i++)
            {
                int index = indices[i];
                if (index >= entries)
                {
                    throw new WaferDataException($"palette index {index} at element {i} is outside the {entries}-entry palette");
                }

                Store(destination, i, size, palette[index]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(indices);
        }
    }

    private static ulong Load(ReadOnlySpan<byte> data, int index, int size) => size switch
    {
        1 => data[index],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data[(index * 4)..]),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(data[(index * 8)..]),
    };

    private static void Store(Span<byte> data, int index, int size, ulong value)
    {
        switch (size)
        {
            case 1:
                data[index] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(data[(index * 2)..], (ushort)value);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data[(index * 4)..], (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(data[(index * 8)..], value);
                break;
        }
    }
}
