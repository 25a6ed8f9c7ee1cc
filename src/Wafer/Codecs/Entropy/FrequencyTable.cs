using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Static per-chunk symbol statistics: counts scaled to frequencies that sum to <see cref="Rans.Total"/>
/// (or all zero for a context the chunk never uses), their compact serialisation and the decoder's lookup table.
/// </summary>
/// <remarks>
/// Serialised form, for an alphabet of <c>n</c> symbols: a sequence of LEB128 values read symbol by symbol; a
/// value <c>f &gt; 0</c> is that symbol's frequency, a value 0 is followed by another LEB128 <c>r</c> and means
/// <c>r + 1</c> symbols of frequency 0. The runs and frequencies cover exactly <c>n</c> symbols.
/// </remarks>
internal static class FrequencyTable
{
    /// <summary>Scales <paramref name="counts"/> to frequencies summing to <see cref="Rans.Total"/>; every counted symbol keeps at least 1.</summary>
    /// <remarks>Deterministic: integer arithmetic only, ties broken by the lower symbol.</remarks>
    public static void Normalize(ReadOnlySpan<uint> counts, Span<ushort> freqs)
    {
        ulong total = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            total += counts[i];
        }

        freqs[..counts.Length].Clear();
        if (total == 0)
        {
            return;
        }

        int sum = 0;
        int largest = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            // Round to nearest, but never below 1: a symbol that occurs must stay codable.
            int f = (int)((((ulong)counts[i] * Rans.Total * 2) + total) / (total * 2));
            f = Math.Max(1, f);
            freqs[i] = (ushort)f;
            sum += f;
            if (counts[i] > counts[largest])
            {
                largest = i;
            }
        }

        int diff = Rans.Total - sum;
        if (diff >= 0)
        {
            freqs[largest] = (ushort)(freqs[largest] + diff);
            return;
        }

        // Too much mass: take it back from the symbols with the most to spare, one unit at a time in
        // descending-frequency order, which costs the least coding efficiency.
        while (diff < 0)
        {
            int best = -1;
            for (int i = 0; i < counts.Length; i++)
            {
                if (freqs[i] > 1 && (best < 0 || freqs[i] > freqs[best]))
                {
                    best = i;
                }
            }

            int take = Math.Min(-diff, Math.Max(1, (freqs[best] - 1) / 8));
            freqs[best] = (ushort)(freqs[best] - take);
            diff += take;
        }
    }

    /// <summary>Writes <paramref name="freqs"/> in the zero-run form.</summary>
    public static bool TryWrite(ReadOnlySpan<ushort> freqs, Span<byte> destination, ref int pos)
    {
        int i = 0;
        while (i < freqs.Length)
        {
            if (freqs[i] != 0)
            {
                if (!VarInt.TryWrite(destination, ref pos, freqs[i]))
                {
                    return false;
                }

                i++;
                continue;
            }

            int run = 1;
            while (i + run < freqs.Length && freqs[i + run] == 0)
            {
                run++;
            }

            if (!VarInt.TryWrite(destination, ref pos, 0) || !VarInt.TryWrite(destination, ref pos, (ulong)(run - 1)))
            {
                return false;
            }

            i += run;
        }

        return true;
    }

    /// <summary>Reads a table of <c>freqs.Length</c> symbols and checks it sums to <see cref="Rans.Total"/> or is all zero.</summary>
    /// <returns>True when the table has any mass (the context is used).</returns>
    public static bool Read(ReadOnlySpan<byte> source, ref int pos, Span<ushort> freqs, string what)
    {
        int i = 0;
        int sum = 0;
        while (i < freqs.Length)
        {
            int f = VarInt.ReadInt(source, ref pos, Rans.Total, what, " frequency");
            if (f != 0)
            {
                sum += f;
                if (sum > Rans.Total)
                {
                    throw new WaferDataException($"{what} frequencies sum past {Rans.Total}");
                }

                freqs[i++] = (ushort)f;
                continue;
            }

            int run = VarInt.ReadInt(source, ref pos, freqs.Length - i - 1, what, " zero run");
            freqs.Slice(i, run + 1).Clear();
            i += run + 1;
        }

        if (sum != 0 && sum != Rans.Total)
        {
            throw new WaferDataException($"{what} frequencies sum to {sum}, not {Rans.Total}");
        }

        return sum != 0;
    }

    /// <summary>Cumulative starts for the encoder.</summary>
    public static void Starts(ReadOnlySpan<ushort> freqs, Span<ushort> starts)
    {
        int s = 0;
        for (int i = 0; i < freqs.Length; i++)
        {
            starts[i] = (ushort)s;
            s += freqs[i];
        }
    }

    /// <summary>Fills a <see cref="Rans.Total"/>-entry decode table; an unused (all-zero) table decodes every slot as symbol 0.</summary>
    public static void BuildDecodeTable(ReadOnlySpan<ushort> freqs, Span<uint> table)
    {
        int start = 0;
        for (int sym = 0; sym < freqs.Length; sym++)
        {
            int f = freqs[sym];
            if (f != 0)
            {
                FillRange(table.Slice(start, f), Rans.PackEntry(sym, f, 0));
                start += f;
            }
        }

        if (start == 0)
        {
            // A corrupt stream may reach a context the encoder never used: decode it harmlessly; the final
            // state check rejects the payload.
            FillRange(table[..Rans.Total], Rans.PackEntry(0, Rans.Total, 0));
        }
    }

    /// <summary>Fills one symbol's slots: <paramref name="first"/> (offset 0), then the offset counting up by one a slot.</summary>
    private static void FillRange(Span<uint> slots, uint first)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && slots.Length >= Vector256<uint>.Count)
        {
            Vector256<uint> step = Vector256.Create((uint)Vector256<uint>.Count << 20);
            Vector256<uint> entries = Vector256.Create(first) + (Vector256<uint>.Indices << 20);
            for (; i <= slots.Length - Vector256<uint>.Count; i += Vector256<uint>.Count)
            {
                entries.StoreUnsafe(ref slots[i]);
                entries += step;
            }
        }

        for (; i < slots.Length; i++)
        {
            slots[i] = first + ((uint)i << 20);
        }
    }

    /// <summary>Counts below which <see cref="CostBits"/> looks up <c>c × log2(c)</c> instead of computing it.</summary>
    private const int CountBitsTableSize = 4096;

    /// <summary><c>c × log2(c)</c> for small counts, computed by the same expression as for large ones, so costs are identical either way.</summary>
    private static readonly double[] s_countBits = BuildCountBits();

    /// <summary><c>c × log2(c)</c>, looked up for counts below 4096.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double CountBits(uint c) => c < CountBitsTableSize ? s_countBits[c] : c * Math.Log2(c);

    /// <summary>Estimated bits to code <paramref name="counts"/> with an ideal static model (the entropy cost).</summary>
    public static double CostBits(ReadOnlySpan<uint> counts)
    {
        ulong total = 0;
        double sum = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            uint c = counts[i];
            if (c != 0)
            {
                total += c;
                sum -= CountBits(c);
            }
        }

        return total == 0 ? 0 : sum + (total * Math.Log2(total));
    }

    private static double[] BuildCountBits()
    {
        double[] table = new double[CountBitsTableSize];
        for (int c = 1; c < table.Length; c++)
        {
            table[c] = c * Math.Log2(c);
        }

        return table;
    }
}
