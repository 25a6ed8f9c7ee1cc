namespace Wafer.Codecs.Entropy;

/// <summary>LEB128 unsigned integers for payload headers: small values take one byte.</summary>
internal static class VarInt
{
    /// <summary>Writes <paramref name="value"/> at <paramref name="pos"/>; false when it does not fit.</summary>
    public static bool TryWrite(Span<byte> destination, ref int pos, ulong value)
    {
        while (true)
        {
            if ((uint)pos >= (uint)destination.Length)
            {
                return false;
            }

            if (value < 0x80)
            {
                destination[pos++] = (byte)value;
                return true;
            }

            destination[pos++] = (byte)(value | 0x80);
            value >>= 7;
        }
    }

    /// <summary>Reads a value no larger than <paramref name="max"/>; <paramref name="what"/> and <paramref name="detail"/> name it in the error.</summary>
    /// <remarks>The name comes in two parts so that hot callers need not build a string per value.</remarks>
    public static ulong Read(ReadOnlySpan<byte> source, ref int pos, ulong max, string what, string detail = "")
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if ((uint)pos >= (uint)source.Length)
            {
                throw new WaferDataException($"payload ends inside the {what}{detail} field");
            }

            byte b = source[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                if (value > max)
                {
                    throw new WaferDataException($"{what}{detail} is {value}, above its limit {max}");
                }

                return value;
            }
        }

        throw new WaferDataException($"the {what}{detail} field is longer than any 64-bit integer");
    }

    /// <summary>Reads the length of a field that follows it: at most the bytes left after the length itself.</summary>
    public static int ReadLength(ReadOnlySpan<byte> source, ref int pos, string what)
    {
        ulong length = Read(source, ref pos, int.MaxValue, what);
        if (length > (ulong)(source.Length - pos))
        {
            throw new WaferDataException($"{what} is {length} but only {source.Length - pos} bytes follow");
        }

        return (int)length;
    }

    /// <summary>Reads an <see cref="int"/> in [0, <paramref name="max"/>].</summary>
    public static int ReadInt(ReadOnlySpan<byte> source, ref int pos, int max, string what, string detail = "") => (int)Read(source, ref pos, (ulong)max, what, detail);
}
