using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>One checked rANS decode step, for stream tails and the context-mode loop.</summary>
internal static unsafe class RansStep
{
    /// <summary>Decodes one symbol, checking that a renormalisation word is inside the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Checked(ref uint x, ReadOnlySpan<uint> table, ReadOnlySpan<byte> stream, ref int p)
    {
        uint entry = table[(int)(x & (Rans.Total - 1))];
        uint y = Rans.Advance(x, entry);
        if (y < Rans.LowerBound)
        {
            if (p > stream.Length - 2)
            {
                throw new WaferDataException("rANS stream ends before its last symbol");
            }

            y = (y << 16) | (uint)(stream[p] | (stream[p + 1] << 8));
            p += 2;
        }

        x = y;
        return entry & 0xFF;
    }
}
