using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// The hot loop of every single-table rANS stream: eight interleaved states decoding one symbol each per step.
/// It stops before a step could read past <c>safeEnd + Lookahead</c>; the caller finishes with checked steps.
/// </summary>
internal static unsafe class InterleavedRansDecoder
{
    /// <summary>Bytes a step may read ahead of the stream position: the caller passes <c>length - Lookahead</c>.</summary>
    public const int Lookahead = 32;

    private const uint SlotMask = Rans.Total - 1;

    /// <summary>Decodes groups of eight symbols into <paramref name="symbols"/> (at most <paramref name="count"/>) while <c>p &lt;= safeEnd</c>.</summary>
    /// <returns>Symbols decoded, a multiple of eight.</returns>
    /// <remarks>
    /// Written out lane by lane with arithmetic renormalisation: each lane's word offset is a prefix sum of the
    /// lanes before it, so no lane waits on another's decode. (An AVX2 version with the states in one vector,
    /// gathers for the table and a shuffle for the words was measured at 0.7× this loop's speed: the gather's
    /// latency sits on the single dependency chain, so it is not kept.)
    /// </remarks>
    public static int Decode(Span<uint> x, uint* t, byte* s, ref nint position, nint safeEnd, byte* symbols, int count)
    {
        int j = 0;
        nint p = position;
        uint x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
        while (j + 8 <= count && p <= safeEnd)
        {
            uint e0 = t[x0 & SlotMask];
            uint e1 = t[x1 & SlotMask];
            uint e2 = t[x2 & SlotMask];
            uint e3 = t[x3 & SlotMask];
            uint e4 = t[x4 & SlotMask];
            uint e5 = t[x5 & SlotMask];
            uint e6 = t[x6 & SlotMask];
            uint e7 = t[x7 & SlotMask];
            uint y0 = Rans.Advance(x0, e0);
            uint y1 = Rans.Advance(x1, e1);
            uint y2 = Rans.Advance(x2, e2);
            uint y3 = Rans.Advance(x3, e3);
            uint y4 = Rans.Advance(x4, e4);
            uint y5 = Rans.Advance(x5, e5);
            uint y6 = Rans.Advance(x6, e6);
            uint y7 = Rans.Advance(x7, e7);
            uint r0 = ((y0 >> 16) - 1) >> 31;
            uint r1 = ((y1 >> 16) - 1) >> 31;
            uint r2 = ((y2 >> 16) - 1) >> 31;
            uint r3 = ((y3 >> 16) - 1) >> 31;
            uint r4 = ((y4 >> 16) - 1) >> 31;
            uint r5 = ((y5 >> 16) - 1) >> 31;
            uint r6 = ((y6 >> 16) - 1) >> 31;
            uint r7 = ((y7 >> 16) - 1) >> 31;
            nint o1 = (nint)r0;
            nint o2 = o1 + (nint)r1;
            nint o3 = o2 + (nint)r2;
            nint o4 = o3 + (nint)r3;
            nint o5 = o4 + (nint)r4;
            nint o6 = o5 + (nint)r5;
            nint o7 = o6 + (nint)r6;
            byte* w = s + p;
            x0 = (y0 << (int)(r0 << 4)) | (Word(w) & (0u - r0));
            x1 = (y1 << (int)(r1 << 4)) | (Word(w + (o1 * 2)) & (0u - r1));
            x2 = (y2 << (int)(r2 << 4)) | (Word(w + (o2 * 2)) & (0u - r2));
            x3 = (y3 << (int)(r3 << 4)) | (Word(w + (o3 * 2)) & (0u - r3));
            x4 = (y4 << (int)(r4 << 4)) | (Word(w + (o4 * 2)) & (0u - r4));
            x5 = (y5 << (int)(r5 << 4)) | (Word(w + (o5 * 2)) & (0u - r5));
            x6 = (y6 << (int)(r6 << 4)) | (Word(w + (o6 * 2)) & (0u - r6));
            x7 = (y7 << (int)(r7 << 4)) | (Word(w + (o7 * 2)) & (0u - r7));
            p += (o7 + (nint)r7) * 2;
            symbols[j + 0] = (byte)e0;
            symbols[j + 1] = (byte)e1;
            symbols[j + 2] = (byte)e2;
            symbols[j + 3] = (byte)e3;
            symbols[j + 4] = (byte)e4;
            symbols[j + 5] = (byte)e5;
            symbols[j + 6] = (byte)e6;
            symbols[j + 7] = (byte)e7;
            j += 8;
        }

        x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3; x[4] = x4; x[5] = x5; x[6] = x6; x[7] = x7;
        position = p;
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(byte* p)
    {
        ushort w = *(ushort*)p;
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }
}
