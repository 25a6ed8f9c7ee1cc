namespace Wafer.Delta;

/// <summary>
/// Shared constants and table (de)serialisation of the context-modelled token coder: a static rANS coder with
/// one frequency table per context (interleaved 31-bit states, 16-bit renormalisation, 12-bit probabilities) and a
/// separate stream for the raw extra bits of <see cref="ValueTokens"/>.
/// </summary>
internal static class ContextTokenCoder
{
    public const int ScaleBits = 12;

    public const int Scale = 1 << ScaleBits;

    /// <summary>Lower bound of a rANS state; encoder and decoder start and end there. States stay below 2^31, where the encoder's reciprocal division is exact.</summary>
    public const uint StateLow = 1u << 15;

    /// <summary>Interleaved rANS states of a stream shorter than <see cref="WideThreshold"/> symbols: symbol i uses state i mod 4.</summary>
    public const int NarrowLanes = 4;

    /// <summary>
    /// Interleaved states of a stream of at least <see cref="WideThreshold"/> symbols: 32 independent chains, four
    /// vectors of eight for the AVX2 decoder.
    /// </summary>
    public const int WideLanes = 32;

    /// <summary>Symbols from which a stream uses <see cref="WideLanes"/> states (their 112 extra state bytes then cost little).</summary>
    public const int WideThreshold = 1 << 16;

    public const int MaxContexts = 64;

    /// <summary>The number of interleaved states of a stream of <paramref name="symbols"/> symbols.</summary>
    public static int LanesFor(int symbols) => symbols >= WideThreshold ? WideLanes : NarrowLanes;

    /// <summary>
    /// A decoding table entry, one per context and 12-bit slot: the frequency minus one (bits 0..11), the slot's
    /// offset from the symbol's start (bits 12..23) and the symbol (bits 24..31). One load gives a decoding step all it needs.
    /// </summary>
    public static uint Entry(int frequency, int offset, int symbol) => (uint)(frequency - 1) | ((uint)offset << ScaleBits) | ((uint)symbol << 24);

    public const int MaxAlphabet = 140;

    /// <summary>
    /// Scales <paramref name="counts"/> (one context's histogram) to frequencies summing to <see cref="Scale"/>,
    /// every used symbol at least 1. Integer-only, so every machine gets the same table.
    /// </summary>
    public static void Normalize(ReadOnlySpan<int> counts, Span<ushort> frequencies)
    {
        long total = 0;
        foreach (int count in counts)
        {
            total += count;
        }

        frequencies.Clear();
        if (total == 0)
        {
            return;
        }

        int sum = 0;
        int largest = -1;
        for (int s = 0; s < counts.Length; s++)
        {
            if (counts[s] == 0)
            {
                continue;
            }

            int f = (int)Math.Max(1, counts[s] * (long)Scale / total);
            frequencies[s] = (ushort)f;
            sum += f;
            if (largest < 0 || counts[s] > counts[largest])
            {
                largest = s;
            }
        }

        if (sum < Scale)
        {
            frequencies[largest] += (ushort)(Scale - sum);
            return;
        }

        // Rounding small counts up to 1 can overshoot; take the excess from the largest frequencies.
        while (sum > Scale)
        {
            int top = 0;
            for (int s = 1; s < frequencies.Length; s++)
            {
                if (frequencies[s] > frequencies[top])
                {
                    top = s;
                }
            }

            int take = Math.Min(sum - Scale, Math.Max(1, frequencies[top] / 2));
            frequencies[top] -= (ushort)take;
            sum -= take;
        }
    }

    /// <summary>
    /// One byte per frequency in a stored table: exact up to 16, then 4 significant bits (6% steps). Decoder and
    /// encoder both rebuild the coding frequencies by <see cref="Normalize"/> of the dequantised values.
    /// </summary>
    public static byte Quantize(int frequency)
    {
        if (frequency <= 16)
        {
            return (byte)(frequency - 1);
        }

        int e = System.Numerics.BitOperations.Log2((uint)frequency) - 3;
        return (byte)((e << 4) | ((frequency >> (e - 1)) - 16));
    }

    public static int Dequantize(byte code) => code < 16 ? code + 1 : (16 + (code & 15)) << ((code >> 4) - 1);

    /// <summary>Bytes of a table's presence bitmap.</summary>
    public static int BitmapBytes(int alphabet) => (alphabet + 7) / 8;

    public static int WriteVarint(Span<byte> destination, int position, uint value)
    {
        while (value >= 0x80)
        {
            destination[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[position++] = (byte)value;
        return position;
    }

    public static uint ReadVarint(ReadOnlySpan<byte> source, ref int position)
    {
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (position >= source.Length)
            {
                throw new WaferDataException("token stream ends inside a number");
            }

            byte b = source[position++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new WaferDataException("token stream holds an over-long number");
    }
}
