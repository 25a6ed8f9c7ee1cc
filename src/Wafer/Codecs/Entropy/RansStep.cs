using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// One rANS decode step in the two forms the hot loops need: unchecked (the caller has proved the stream holds
/// enough bytes for every word the block can read) and checked (stream tails).
/// </summary>
internal static unsafe class RansStep
{
    /// <summary>Decodes one symbol without a bounds check; the caller guarantees 2 readable bytes at <paramref name="p"/>.</summary>
    /// <remarks>Renormalisation is branch-free: whether a word is needed is data-dependent and unpredictable.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Unchecked(ref uint x, uint* table, byte* stream, ref nint p)
    {
        uint entry = table[x & (Rans.Total - 1)];
        uint y = Rans.Advance(x, entry);
        ushort w = *(ushort*)(stream + p);
        uint word = BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
        bool renormalise = y < Rans.LowerBound;
        x = renormalise ? (y << 16) | word : y;
        p += renormalise ? 2 : 0;
        return entry & 0xFF;
    }

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
