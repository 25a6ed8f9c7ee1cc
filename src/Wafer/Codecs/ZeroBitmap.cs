using System.Numerics;
using Wafer.Codecs.Entropy;

namespace Wafer.Codecs;

/// <summary>
/// The zero bitmap that <c>sparse</c> and <c>delta-sparse</c> payloads begin with (after their version byte):
/// <c>varint n</c>, <c>varint nz</c>, then the order-0 byte stream of the <c>ceil(n/8)</c>-byte bitmap, bit <c>i</c>
/// set when element <c>i</c> is non-zero (any of its bytes is). A reader checks the count against the chunk, that
/// exactly <c>nz</c> bits are set and none past <c>n</c>.
/// </summary>
internal static class ZeroBitmap
{
    /// <summary>Bitmap bytes for <paramref name="n"/> elements.</summary>
    public static int Bytes(int n) => (n + 7) / 8;

    /// <summary>Whether element <paramref name="i"/> is marked non-zero.</summary>
    public static bool IsSet(ReadOnlySpan<byte> map, int i) => (map[i >> 3] & (1 << (i & 7))) != 0;

    /// <summary>Writes the counts and the coded bitmap at <paramref name="pos"/>; false when they do not fit.</summary>
    public static bool TryWrite(Span<byte> destination, ref int pos, int n, int nonzero, ReadOnlySpan<byte> map) =>
        VarInt.TryWrite(destination, ref pos, (ulong)n)
        && VarInt.TryWrite(destination, ref pos, (ulong)nonzero)
        && ByteStreamCoder.TryEncode(map, destination, ref pos);

    /// <summary>
    /// Reads the counts and the bitmap of a chunk of <paramref name="n"/> elements into <paramref name="map"/>
    /// (<see cref="Bytes"/> long) and returns the non-zero count; throws naming <paramref name="codec"/> when anything
    /// disagrees.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> source, ref int pos, int n, Span<byte> map, string codec)
    {
        int declared = VarInt.ReadInt(source, ref pos, int.MaxValue, $"{codec} element count");
        if (declared != n)
        {
            throw new WaferDataException($"{codec} payload holds {declared} elements, the chunk has {n}");
        }

        int nonzero = VarInt.ReadInt(source, ref pos, n, $"{codec} non-zero count");
        ByteStreamCoder.Decode(source, ref pos, map, $"{codec} bitmap");
        int set = 0;
        foreach (byte b in map)
        {
            set += BitOperations.PopCount(b);
        }

        if ((n & 7) != 0 && (map[^1] >> (n & 7)) != 0)
        {
            throw new WaferDataException($"{codec} bitmap marks elements past the end of the chunk");
        }

        if (set != nonzero)
        {
            throw new WaferDataException($"{codec} bitmap marks {set} non-zero elements, the header says {nonzero}");
        }

        return nonzero;
    }
}
