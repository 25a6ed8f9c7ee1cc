using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// The rANS primitives shared by every Wafer entropy-coded stream: 32-bit states kept in [2^16, 2^32),
/// 16-bit renormalisation words and 12-bit probabilities (frequencies sum to 4096). Several states are
/// interleaved so the decoder's dependency chains overlap: symbol <c>i</c> of a stream uses state
/// <c>i % lanes</c>, where a stream of at least <see cref="WideThreshold"/> symbols has <see cref="WideLanes"/>
/// states (enough independent chains for a vector decoder) and a shorter one <see cref="NarrowLanes"/> (fewer
/// state bytes). The encoder runs backwards and writes words backwards; the decoder reads them forwards, so the
/// words of one step appear in lane order.
/// </summary>
internal static class Rans
{
    /// <summary>Probability precision in bits: every table's frequencies sum to <see cref="Total"/>.</summary>
    public const int ScaleBits = 12;

    /// <summary>The sum of a table's frequencies.</summary>
    public const int Total = 1 << ScaleBits;

    /// <summary>Lower bound of a normalised state; also the initial and final value of every state that carries no stashed data.</summary>
    public const uint LowerBound = 1u << 16;

    /// <summary>Interleaved states of a stream shorter than <see cref="WideThreshold"/> symbols.</summary>
    public const int NarrowLanes = 8;

    /// <summary>Interleaved states of a stream of at least <see cref="WideThreshold"/> symbols.</summary>
    public const int WideLanes = 32;

    /// <summary>Symbols from which a stream uses <see cref="WideLanes"/> states (their extra 96 state bytes then cost under 0.2%).</summary>
    public const int WideThreshold = 1 << 16;

    /// <summary>The number of interleaved states of a stream of <paramref name="symbols"/> symbols.</summary>
    public static int LanesFor(long symbols) => symbols >= WideThreshold ? WideLanes : NarrowLanes;

    private const int SlotMask = Total - 1;

    /// <summary>Encodes one symbol (frequency, cumulative start) into <paramref name="x"/>, emitting at most one word below <paramref name="pos"/>.</summary>
    /// <returns>False when the output buffer is full.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Encode(ref uint x, ref int pos, Span<byte> buffer, uint freq, uint start)
    {
        uint state = x;
        if (state >= (ulong)freq << (32 - ScaleBits))
        {
            if (pos < 2)
            {
                return false;
            }

            pos -= 2;
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[pos..], (ushort)state);
            state >>= 16;
        }

        uint q = state / freq;
        x = (q << ScaleBits) + (state - (q * freq)) + start;
        return true;
    }

    /// <summary>
    /// Packs the decode-table entry of one slot: symbol in bits 0..7, frequency - 1 in bits 8..19, and the slot's
    /// offset within the symbol's range (slot - start) in bits 20..31, so that decoding needs neither the slot nor
    /// the start.
    /// </summary>
    public static uint PackEntry(int symbol, int freq, int offset) => (uint)symbol | ((uint)(freq - 1) << 8) | ((uint)offset << 20);

    /// <summary>Advances <paramref name="x"/> past the symbol whose table entry is <paramref name="entry"/>: f × (x / 4096) + (x mod 4096 - start); the caller renormalises.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Advance(uint x, uint entry) =>
        ((((entry >> 8) & SlotMask) + 1) * (x >> ScaleBits)) + (entry >> 20);

    /// <summary>Writes the final encoder states (4 bytes each) at the front of a stream.</summary>
    public static void WriteStates(ReadOnlySpan<uint> states, Span<byte> destination)
    {
        for (int i = 0; i < states.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(i * 4)..], states[i]);
        }
    }

    /// <summary>Reads the initial decoder states (as many as <paramref name="states"/> holds) and checks each is a normalised state.</summary>
    public static void ReadStates(ReadOnlySpan<byte> stream, Span<uint> states)
    {
        if (stream.Length < states.Length * 4)
        {
            throw new WaferDataException($"rANS stream is {stream.Length} bytes, shorter than its {states.Length * 4}-byte state block");
        }

        for (int i = 0; i < states.Length; i++)
        {
            uint x = BinaryPrimitives.ReadUInt32LittleEndian(stream[(i * 4)..]);
            if (x < LowerBound)
            {
                throw new WaferDataException($"rANS state {i} is {x}, below the normalised lower bound");
            }

            states[i] = x;
        }
    }

    /// <summary>Checks that decoding consumed the whole stream and every state returned to its initial value.</summary>
    public static void CheckFinal(ReadOnlySpan<uint> states, int position, int length)
    {
        if (position != length)
        {
            throw new WaferDataException($"rANS stream has {length - position} unread bytes after the last symbol");
        }

        for (int i = 0; i < states.Length; i++)
        {
            if (states[i] != LowerBound)
            {
                throw new WaferDataException($"rANS state {i} ends at {states[i]}, not at its initial value: the stream is corrupt");
            }
        }
    }
}
