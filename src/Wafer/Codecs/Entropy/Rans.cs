using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// The rANS primitives shared by every Wafer entropy-coded stream: 32-bit states kept in [2^16, 2^32),
/// 16-bit renormalisation words and 12-bit probabilities (frequencies sum to 4096). Eight states are
/// interleaved so the decoder's dependency chains overlap. The encoder runs backwards and writes words
/// backwards; the decoder reads them forwards.
/// </summary>
internal static class Rans
{
    /// <summary>Probability precision in bits: every table's frequencies sum to <see cref="Total"/>.</summary>
    public const int ScaleBits = 12;

    /// <summary>The sum of a table's frequencies.</summary>
    public const int Total = 1 << ScaleBits;

    /// <summary>Lower bound of a normalised state; also every state's initial and final value.</summary>
    public const uint LowerBound = 1u << 16;

    /// <summary>Interleaved states; symbol <c>i</c> of a stream uses state <c>i % Lanes</c>.</summary>
    public const int Lanes = 8;

    /// <summary>Bytes of the final states that start every stream.</summary>
    public const int StateBytes = Lanes * 4;

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

    /// <summary>Packs a decode-table entry: symbol in bits 0..7, frequency - 1 in bits 8..19, start in bits 20..31.</summary>
    public static uint PackEntry(int symbol, int freq, int start) => (uint)symbol | ((uint)(freq - 1) << 8) | ((uint)start << 20);

    /// <summary>Advances <paramref name="x"/> past the symbol whose table entry is <paramref name="entry"/>; the caller renormalises.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Advance(uint x, uint entry) =>
        ((((entry >> 8) & SlotMask) + 1) * (x >> ScaleBits)) + (x & SlotMask) - (entry >> 20);

    /// <summary>Writes the final encoder states at the front of a stream.</summary>
    public static void WriteStates(ReadOnlySpan<uint> states, Span<byte> destination)
    {
        for (int i = 0; i < Lanes; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(i * 4)..], states[i]);
        }
    }

    /// <summary>Reads the initial decoder states and checks each is a normalised state.</summary>
    public static void ReadStates(ReadOnlySpan<byte> stream, Span<uint> states)
    {
        if (stream.Length < StateBytes)
        {
            throw new WaferDataException($"rANS stream is {stream.Length} bytes, shorter than its {StateBytes}-byte state block");
        }

        for (int i = 0; i < Lanes; i++)
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
