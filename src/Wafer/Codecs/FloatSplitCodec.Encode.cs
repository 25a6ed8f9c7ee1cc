using System.Buffers;
using System.Numerics;
using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;

namespace Wafer.Codecs;

internal sealed partial class FloatSplitCodec
{
    /// <summary>What the encoder chose for a chunk.</summary>
    private struct Plan
    {
        public int Mode;
        public int DroppedBits;
        public int JointBits;
        public int SecondBits;
        public int Center;
    }

    private static unsafe int EncodeCore<TE>(ReadOnlySpan<byte> source, FloatLayout layout, Span<byte> destination)
        where TE : struct, IElementAccess
    {
        int n = source.Length / layout.Bytes;
        if (destination.Length < 1)
        {
            return -1;
        }

        destination[0] = Version;
        if (n == 0)
        {
            return 1;
        }

        int exponents = 1 << layout.ExponentBits;
        int topBits = Math.Min(MaxCodedMantissaBits, layout.MantissaBits);
        int topCount = 1 << topBits;
        uint[] hist = ArrayPool<uint>.Shared.Rent((exponents * topCount) + (ExponentContexts * exponents));
        byte[] symbols = ArrayPool<byte>.Shared.Rent(2 * n);
        try
        {
            Span<uint> histTop = hist.AsSpan(0, exponents * topCount);
            Span<uint> histContext = hist.AsSpan(exponents * topCount, ExponentContexts * exponents);
            histTop.Clear();
            histContext.Clear();
            Plan plan;
            fixed (byte* src = source)
            {
                plan = Analyse<TE>(src, n, layout, topBits, histTop, histContext);
            }

            if (plan.Mode < 0)
            {
                return -1;
            }

            fixed (byte* src = source)
            {
                return Write<TE>(src, n, layout, plan, symbols.AsSpan(0, 2 * n), destination);
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(hist);
            ArrayPool<byte>.Shared.Return(symbols);
        }
    }

    /// <summary>One pass of histograms, then the cheapest plan by estimated size (entropy plus table bytes plus raw bits).</summary>
    private static unsafe Plan Analyse<TE>(byte* src, int n, FloatLayout layout, int topBits, Span<uint> histTop, Span<uint> histContext)
        where TE : struct, IElementAccess
    {
        int m = layout.MantissaBits;
        int exponents = 1 << layout.ExponentBits;
        int expMask = exponents - 1;
        ulong mantMask = (1UL << m) - 1;
        int topCount = 1 << topBits;

        // The context buckets are centred on the commonest exponent of the chunk's head, a cheap stand-in for the mode.
        int center;
        {
            Span<int> head = stackalloc int[exponents];
            head.Clear();
            int headCount = Math.Min(n, 4096);
            for (int i = 0; i < headCount; i++)
            {
                head[(int)(TE.Load(src, i) >> m) & expMask]++;
            }

            center = 0;
            for (int e = 1; e < exponents; e++)
            {
                if (head[e] > head[center])
                {
                    center = e;
                }
            }
        }

        ulong orMantissa = 0;
        int previous = center;
        fixed (uint* ht = histTop)
        fixed (uint* hc = histContext)
        {
            for (int i = 0; i < n; i++)
            {
                ulong v = TE.Load(src, i);
                int e = (int)(v >> m) & expMask;
                ulong mant = v & mantMask;
                orMantissa |= mant;
                ht[(e << topBits) | (int)(mant >> (m - topBits))]++;
                hc[(Bucket(previous, center) * exponents) + e]++;
                previous = e;
            }
        }

        int dropped = orMantissa == 0 ? m : BitOperations.TrailingZeroCount(orMantissa);
        int kMax = Math.Min(topBits, m - dropped);

        // Exponent-only counts, and how many distinct exponents the chunk has.
        Span<uint> expCounts = stackalloc uint[exponents];
        int distinct = 0;
        for (int e = 0; e < exponents; e++)
        {
            uint c = 0;
            for (int t = 0; t < topCount; t++)
            {
                c += histTop[(e << topBits) + t];
            }

            expCounts[e] = c;
            distinct += c != 0 ? 1 : 0;
        }

        var best = new Plan { Mode = -1, DroppedBits = dropped, Center = center };
        double bestBits = double.MaxValue;
        Span<uint> projected = stackalloc uint[1 << topBits];

        // Joint mode: one symbol per value holding the exponent and k mantissa bits.
        for (int k = 0; k <= kMax; k++)
        {
            int group = 1 << (topBits - k);
            double bits = 0;
            int alphabet = 0;
            for (int e = 0; e < exponents; e++)
            {
                if (expCounts[e] == 0)
                {
                    continue;
                }

                for (int t = 0; t < (1 << k); t++)
                {
                    uint c = 0;
                    for (int g = 0; g < group; g++)
                    {
                        c += histTop[(e << topBits) + (t * group) + g];
                    }

                    if (c != 0)
                    {
                        alphabet++;
                        bits -= c * Math.Log2(c);
                    }
                }
            }

            if (alphabet > MaxAlphabet)
            {
                continue;
            }

            bits += n * Math.Log2(n);
            bits += 8.0 * alphabet * 2.5;
            bits += (double)n * (1 + m - dropped - k);
            if (bits < bestBits)
            {
                bestBits = bits;
                best.Mode = ModeJoint;
                best.JointBits = k;
                best.SecondBits = 0;
            }
        }

        // Context mode: the exponent given the previous exponent's bucket, then k mantissa bits given the exponent.
        if (distinct <= MaxAlphabet && n >= 4096)
        {
            double expBits = 0;
            int nonzero = 0;
            for (int b = 0; b < ExponentContexts; b++)
            {
                ReadOnlySpan<uint> row = histContext.Slice(b * exponents, exponents);
                expBits += FrequencyTable.CostBits(row);
                foreach (uint c in row)
                {
                    nonzero += c != 0 ? 1 : 0;
                }
            }

            for (int k = 0; k <= kMax; k++)
            {
                int group = 1 << (topBits - k);
                double bits = expBits + (8.0 * ((nonzero * 1.6) + (ExponentContexts * 2) + (distinct * 1.5)));
                for (int e = 0; e < exponents; e++)
                {
                    if (expCounts[e] == 0 || k == 0)
                    {
                        continue;
                    }

                    Span<uint> p = projected[..(1 << k)];
                    for (int t = 0; t < (1 << k); t++)
                    {
                        uint c = 0;
                        for (int g = 0; g < group; g++)
                        {
                            c += histTop[(e << topBits) + (t * group) + g];
                        }

                        p[t] = c;
                    }

                    bits += FrequencyTable.CostBits(p);
                }

                if (k > 0)
                {
                    bits += 8.0 * Math.Min(distinct, MaxSecondContexts) * (1 << k) * 1.6;
                }

                bits += (double)n * (1 + m - dropped - k);
                if (bits < bestBits)
                {
                    bestBits = bits;
                    best.Mode = ModePreviousExponent;
                    best.JointBits = 0;
                    best.SecondBits = k;
                }
            }
        }

        return best;
    }

    /// <summary>Builds symbols and tables for <paramref name="plan"/> and writes the payload.</summary>
    private static unsafe int Write<TE>(byte* src, int n, FloatLayout layout, Plan plan, Span<byte> symbols, Span<byte> destination)
        where TE : struct, IElementAccess
    {
        int m = layout.MantissaBits;
        int expMask = (1 << layout.ExponentBits) - 1;
        ulong mantMask = (1UL << m) - 1;
        int k1 = plan.JointBits;
        int k2 = plan.SecondBits;
        int prefixShift = m - k1;
        int prefixSpace = 1 << (layout.ExponentBits + k1);

        // Prefix (exponent and k1 mantissa bits) -> dense symbol.
        int[] mapArray = ArrayPool<int>.Shared.Rent(prefixSpace);
        try
        {
            Span<int> map = mapArray.AsSpan(0, prefixSpace);
            map.Fill(-1);
            for (int i = 0; i < n; i++)
            {
                map[(int)(TE.Load(src, i) >> prefixShift) & (prefixSpace - 1)] = 0;
            }

            Span<int> prefixes = stackalloc int[MaxAlphabet];
            int alphabet = 0;
            for (int p = 0; p < prefixSpace; p++)
            {
                if (map[p] == 0)
                {
                    if (alphabet == MaxAlphabet)
                    {
                        return -1;
                    }

                    map[p] = alphabet;
                    prefixes[alphabet++] = p;
                }
            }

            prefixes = prefixes[..alphabet];
            int contexts = plan.Mode == ModePreviousExponent ? ExponentContexts : 1;
            Span<byte> contextOf = stackalloc byte[alphabet];
            for (int a = 0; a < alphabet; a++)
            {
                contextOf[a] = plan.Mode == ModePreviousExponent ? (byte)Bucket(prefixes[a] >> k1, plan.Center) : (byte)0;
            }

            int firstContext = plan.Mode == ModePreviousExponent ? Bucket(plan.Center, plan.Center) : 0;

            // Symbols and exact counts.
            Span<byte> symA = symbols[..n];
            Span<byte> symB = symbols.Slice(n, n);
            int secondCount = 1 << k2;
            uint[] countArray = ArrayPool<uint>.Shared.Rent((contexts * alphabet) + (alphabet * secondCount));
            try
            {
                Span<uint> countsA = countArray.AsSpan(0, contexts * alphabet);
                Span<uint> countsBySymbol = countArray.AsSpan(contexts * alphabet, alphabet * secondCount);
                countsA.Clear();
                countsBySymbol.Clear();
                int ctx = firstContext;
                int secondShift = m - k1 - k2;
                int secondMask = secondCount - 1;
                for (int i = 0; i < n; i++)
                {
                    ulong v = TE.Load(src, i);
                    int a = map[(int)(v >> prefixShift) & (prefixSpace - 1)];
                    int b = (int)(v >> secondShift) & secondMask;
                    symA[i] = (byte)a;
                    symB[i] = (byte)b;
                    countsA[(ctx * alphabet) + a]++;
                    countsBySymbol[(a * secondCount) + b]++;
                    ctx = contextOf[a];
                }

                // Second-symbol contexts: the commonest exponents get their own table, the rest share the last.
                int secondContexts = k2 == 0 ? 0 : Math.Min(alphabet, MaxSecondContexts);
                Span<byte> secondOf = stackalloc byte[alphabet];
                secondOf.Clear();
                if (k2 > 0)
                {
                    Span<uint> totals = stackalloc uint[alphabet];
                    for (int a = 0; a < alphabet; a++)
                    {
                        uint c = 0;
                        for (int b = 0; b < secondCount; b++)
                        {
                            c += countsBySymbol[(a * secondCount) + b];
                        }

                        totals[a] = c;
                    }

                    Span<bool> taken = stackalloc bool[alphabet];
                    taken.Clear();
                    for (int r = 0; r < secondContexts - 1; r++)
                    {
                        int pick = -1;
                        for (int a = 0; a < alphabet; a++)
                        {
                            if (!taken[a] && (pick < 0 || totals[a] > totals[pick]))
                            {
                                pick = a;
                            }
                        }

                        taken[pick] = true;
                        secondOf[pick] = (byte)r;
                    }

                    for (int a = 0; a < alphabet; a++)
                    {
                        if (!taken[a])
                        {
                            secondOf[a] = (byte)(secondContexts - 1);
                        }
                    }
                }

                Span<uint> countsB = stackalloc uint[Math.Max(1, secondContexts * secondCount)];
                countsB.Clear();
                for (int a = 0; a < alphabet && k2 > 0; a++)
                {
                    for (int b = 0; b < secondCount; b++)
                    {
                        countsB[(secondOf[a] * secondCount) + b] += countsBySymbol[(a * secondCount) + b];
                    }
                }

                // Header.
                int pos = 0;
                int rawBits = 1 + m - plan.DroppedBits - k1 - k2;
                if (destination.Length < 8)
                {
                    return -1;
                }

                destination[pos++] = Version;
                destination[pos++] = (byte)plan.Mode;
                destination[pos++] = (byte)plan.DroppedBits;
                destination[pos++] = (byte)k1;
                destination[pos++] = (byte)k2;
                if (!VarInt.TryWrite(destination, ref pos, (ulong)alphabet))
                {
                    return -1;
                }

                for (int a = 0; a < alphabet; a++)
                {
                    ulong delta = a == 0 ? (ulong)prefixes[0] : (ulong)(prefixes[a] - prefixes[a - 1] - 1);
                    if (!VarInt.TryWrite(destination, ref pos, delta))
                    {
                        return -1;
                    }
                }

                if (plan.Mode == ModePreviousExponent && !VarInt.TryWrite(destination, ref pos, (ulong)plan.Center))
                {
                    return -1;
                }

                ushort[] tableArray = ArrayPool<ushort>.Shared.Rent(2 * ((contexts * alphabet) + (secondContexts * secondCount)));
                try
                {
                    int sizeA = contexts * alphabet;
                    int sizeB = secondContexts * secondCount;
                    Span<ushort> freqA = tableArray.AsSpan(0, sizeA);
                    Span<ushort> startA = tableArray.AsSpan(sizeA, sizeA);
                    Span<ushort> freqB = tableArray.AsSpan(2 * sizeA, sizeB);
                    Span<ushort> startB = tableArray.AsSpan((2 * sizeA) + sizeB, sizeB);
                    for (int c = 0; c < contexts; c++)
                    {
                        Span<ushort> f = freqA.Slice(c * alphabet, alphabet);
                        FrequencyTable.Normalize(countsA.Slice(c * alphabet, alphabet), f);
                        FrequencyTable.Starts(f, startA.Slice(c * alphabet, alphabet));
                        if (!FrequencyTable.TryWrite(f, destination, ref pos))
                        {
                            return -1;
                        }
                    }

                    if (k2 > 0)
                    {
                        if (!VarInt.TryWrite(destination, ref pos, (ulong)secondContexts) || pos + alphabet > destination.Length)
                        {
                            return -1;
                        }

                        secondOf.CopyTo(destination[pos..]);
                        pos += alphabet;
                        for (int c = 0; c < secondContexts; c++)
                        {
                            Span<ushort> f = freqB.Slice(c * secondCount, secondCount);
                            FrequencyTable.Normalize(countsB.Slice(c * secondCount, secondCount), f);
                            FrequencyTable.Starts(f, startB.Slice(c * secondCount, secondCount));
                            if (!FrequencyTable.TryWrite(f, destination, ref pos))
                            {
                                return -1;
                            }
                        }
                    }

                    long rawBytes = (((long)n * rawBits) + 7) / 8;
                    const int LengthField = 5;
                    long room = destination.Length - pos - LengthField - rawBytes;
                    if (room < Rans.StateBytes)
                    {
                        return -1;
                    }

                    // rANS backwards into the space the raw stream does not need, then slide it into place.
                    Span<byte> area = destination.Slice(pos + LengthField, (int)room);
                    int wp = area.Length;
                    Span<uint> x = stackalloc uint[Rans.Lanes];
                    x.Fill(Rans.LowerBound);
                    int perValue = k2 > 0 ? 2 : 1;
                    for (int i = n - 1; i >= 0; i--)
                    {
                        int a = symA[i];
                        int lane = (i * perValue) & (Rans.Lanes - 1);
                        if (k2 > 0)
                        {
                            int tb = (secondOf[a] * secondCount) + symB[i];
                            if (!Rans.Encode(ref x[(lane + 1) & (Rans.Lanes - 1)], ref wp, area, freqB[tb], startB[tb]))
                            {
                                return -1;
                            }
                        }

                        int context = i == 0 ? firstContext : contextOf[symA[i - 1]];
                        int ta = (context * alphabet) + a;
                        if (!Rans.Encode(ref x[lane], ref wp, area, freqA[ta], startA[ta]))
                        {
                            return -1;
                        }
                    }

                    if (wp < Rans.StateBytes)
                    {
                        return -1;
                    }

                    wp -= Rans.StateBytes;
                    Rans.WriteStates(x, area[wp..]);
                    int streamLength = area.Length - wp;
                    VarInt.TryWrite(destination, ref pos, (ulong)streamLength);
                    area[wp..].CopyTo(destination[pos..]);
                    pos += streamLength;

                    // Raw stream: low mantissa bits, then the sign above them.
                    int low = rawBits - 1;
                    ulong lowMask = (1UL << low) - 1;
                    int dropped = plan.DroppedBits;
                    int signShift = layout.Bits - 1;
                    var bits = new BitWriter(destination.Slice(pos, (int)rawBytes + 8 <= destination.Length - pos ? (int)rawBytes + 8 : destination.Length - pos));
                    if (rawBits <= 32)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            ulong v = TE.Load(src, i);
                            bits.Write((((v & mantMask) >> dropped) & lowMask) | ((v >> signShift) << low), rawBits);
                        }
                    }
                    else
                    {
                        for (int i = 0; i < n; i++)
                        {
                            ulong v = TE.Load(src, i);
                            ulong raw = (((v & mantMask) >> dropped) & lowMask) | ((v >> signShift) << low);
                            bits.Write(raw & 0xFFFF_FFFF, 32);
                            bits.Write(raw >> 32, rawBits - 32);
                        }
                    }

                    bits.Flush();
                    if (bits.Position != rawBytes)
                    {
                        throw new InvalidOperationException("raw stream length mismatch");
                    }

                    return pos + (int)rawBytes;
                }
                finally
                {
                    ArrayPool<ushort>.Shared.Return(tableArray);
                }
            }
            finally
            {
                ArrayPool<uint>.Shared.Return(countArray);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(mapArray);
        }
    }
}
