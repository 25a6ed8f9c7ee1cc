using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;
using Wafer.Codecs.Kernels;

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
        public int RowLength;
        public int Phase;
        public int Classes;
        public byte[]? RowClass;
        public double Bits;
    }

    private static unsafe int EncodeCore<TE>(ReadOnlySpan<byte> source, FloatLayout layout, int rowLength, int firstColumn, Span<byte> destination)
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
        byte[]? symbols = null;
        ulong[] cellOr = ArrayPool<ulong>.Shared.Rent(exponents * topCount);
        try
        {
            cellOr.AsSpan(0, exponents * topCount).Clear();
            Span<uint> histTop = hist.AsSpan(0, exponents * topCount);
            Span<uint> histContext = hist.AsSpan(exponents * topCount, ExponentContexts * exponents);
            histTop.Clear();
            histContext.Clear();
            Plan plan;
            fixed (byte* src = source)
            {
                plan = Analyse<TE>(src, n, layout, topBits, histTop, histContext, cellOr);
                if (plan.Mode >= 0 && rowLength >= 2 && firstColumn >= 0 && firstColumn < rowLength && n >= RowClassMinimum
                    && (TE.Size >= 4 || RowScalesDiffer<TE>(src, n, layout, topBits, rowLength, firstColumn)))
                {
                    ConsiderRowClasses<TE>(src, n, layout, topBits, rowLength, firstColumn, histTop, ref plan);
                }
            }

            if (plan.Mode < 0)
            {
                return -1;
            }

            // Only the context modes keep per-value symbols; the joint mode codes straight from the source.
            bool keepsSymbols = plan.Mode != ModeJoint || plan.SecondBits > 0;
            symbols = keepsSymbols ? ArrayPool<byte>.Shared.Rent(2 * n) : null;
            fixed (byte* src = source)
            {
                return Write<TE>(src, n, layout, plan, histTop, cellOr, topBits, keepsSymbols ? symbols.AsSpan(0, 2 * n) : [], destination);
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(hist);
            if (symbols is not null)
            {
                ArrayPool<byte>.Shared.Return(symbols);
            }

            ArrayPool<ulong>.Shared.Return(cellOr);
        }
    }

    /// <summary>Values from which a chunk of a tensor with known rows considers <see cref="ModeRowClass"/>.</summary>
    private const int RowClassMinimum = 4096;

    /// <summary>The densest sampling of (previous, current) exponent pairs: every fourth.</summary>
    private const int ContextSampleStride = 4;

    /// <summary>This thread's whole-value histogram for 16-bit chunks, kept all zero between uses.</summary>
    [ThreadStatic]
    private static uint[]? t_wholeValueCounts;

    /// <summary>Values from which a 16-bit chunk folds its whole histogram rather than its values' ranges.</summary>
    private const int RangedFoldLimit = 1 << 18;

    /// <summary>Values from which a 16-bit chunk is analysed through a histogram of whole values.</summary>
    private const int WholeValueHistogramMinimum = 1 << 12;

    /// <summary>One pass of histograms, then the cheapest plan by estimated size (entropy plus table bytes plus raw bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe Plan Analyse<TE>(byte* src, int n, FloatLayout layout, int topBits, Span<uint> histTop, Span<uint> histContext, ulong[] cellOr)
        where TE : struct, IElementAccess
    {
        int m = layout.MantissaBits;
        int exponents = 1 << layout.ExponentBits;
        int expMask = exponents - 1;
        int topCount = 1 << topBits;

        // The context buckets are centred on the commonest exponent of the chunk's head, a cheap stand-in for the mode.
        // 16-bit chunks never take a context mode, so they skip it.
        int center = 0;
        if (TE.Size != 2)
        {
            Span<int> head = stackalloc int[exponents];
            head.Clear();
            int headCount = Math.Min(n, 4096);
            for (int i = 0; i < headCount; i++)
            {
                head[(int)(TE.Load(src, i) >> m) & expMask]++;
            }

            for (int e = 1; e < exponents; e++)
            {
                if (head[e] > head[center])
                {
                    center = e;
                }
            }
        }

        // Per (exponent, top mantissa bits) cell: its count, the OR of the mantissa bits below the cell (which
        // bits are dead) and whether negative (bit 62) and positive (bit 63) values occur.
        Span<byte> bucketOf = stackalloc byte[exponents];
        for (int e = 0; e < exponents && TE.Size != 2; e++)
        {
            bucketOf[e] = (byte)Bucket(e, center);
        }

        ulong orMantissa = 0;
        int signShift = layout.Bits - 1;
        fixed (uint* ht = histTop)
        fixed (uint* hc = histContext)
        fixed (ulong* co = cellOr)
        fixed (byte* bo = bucketOf)
        {
            if (TE.Size == 2 && n >= WholeValueHistogramMinimum && m - topBits >= 3)
            {
                // 16-bit values: count whole values (one increment per value, no per-value OR), then fold the
                // 65536 counts into cells.
                orMantissa = CountWholeValues((ushort*)src, n, m, topBits, 0, ht, co);
            }
            else if (TE.Size == 4 && n >= WholeValueHistogramMinimum && m == 23 && layout.ExponentBits == 8 && topBits == 4 && HighHalvesOnly((uint*)src, n))
            {
                // F32 values that are all BF16 values (an upcast checkpoint): their top halves are BF16 values with the
                // same cells, so they are counted as such, and the cells' low bits moved up by the 16 zero bits.
                ushort[] halves = ArrayPool<ushort>.Shared.Rent(n);
                try
                {
                    fixed (ushort* hv = halves)
                    {
                        HighHalves((uint*)src, n, hv);
                        orMantissa = CountWholeValues(hv, n, 7, topBits, 16, ht, co);
                    }
                }
                finally
                {
                    ArrayPool<ushort>.Shared.Return(halves);
                }
            }
            else
            {
                orMantissa = CountCells<TE>(src, n, m, expMask, topBits, signShift, ht, co);
            }

            // The context statistics only steer the choice of mode (the context mode recounts exactly), so every
            // fourth (previous, current) pair is enough, and at most about 32768 of them. 16-bit weights gain nothing
            // from the previous exponent (measured on the BF16 corpus: it costs 0.16% more), so they skip it.
            int stride = Math.Max(ContextSampleStride, n / 32768);
            for (int i = stride; i < n && TE.Size != 2; i += stride)
            {
                int before = (int)(TE.Load(src, i - 1) >> m) & expMask;
                hc[(bo[before] * exponents) + ((int)(TE.Load(src, i) >> m) & expMask)]++;
            }
        }

        int dropped = orMantissa == 0 ? m : BitOperations.TrailingZeroCount(orMantissa);
        int kMax = Math.Min(topBits, m - dropped);

        // Exponent-only counts, and the exponents that occur (in increasing order).
        Span<uint> expCounts = stackalloc uint[exponents];
        Span<int> present = stackalloc int[exponents];
        int distinct = 0;
        for (int e = 0; e < exponents; e++)
        {
            uint c = 0;
            if (topCount == 16)
            {
                c = Vector256.Sum(Vector256.Create(histTop.Slice(e << topBits, 8)) + Vector256.Create(histTop.Slice((e << topBits) + 8, 8)));
            }
            else
            {
                for (int t = 0; t < topCount; t++)
                {
                    c += histTop[(e << topBits) + t];
                }
            }

            expCounts[e] = c;
            if (c != 0)
            {
                present[distinct++] = e;
            }
        }

        present = present[..distinct];

        var best = new Plan { Mode = -1, DroppedBits = dropped, Center = center };
        double bestBits = double.MaxValue;
        Span<uint> projected = stackalloc uint[1 << topBits];

        // Joint mode: one symbol per value holding the exponent and k mantissa bits.
        double narrowFieldBits = double.MaxValue;
        int narrowFieldK = -1;
        for (int k = 0; k <= kMax; k++)
        {
            int group = 1 << (topBits - k);
            double bits = 0;
            int alphabet = 0;
            foreach (int e in present)
            {
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
                        bits -= FrequencyTable.CountBits(c);
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
            if (1 + m - dropped - k <= 8 && bits < narrowFieldBits)
            {
                (narrowFieldBits, narrowFieldK) = (bits, k);
            }

            if (bits < bestBits)
            {
                bestBits = bits;
                best.Mode = ModeJoint;
                best.JointBits = k;
                best.SecondBits = 0;
            }
        }

        // Raw fields of at most 8 bits are packed and unpacked by the byte-wide kernels, about twice as fast as wider
        // ones, so such a plan wins when its estimate is within 0.2% of the raw size of the best one (about the
        // estimate's own error: on F16 weights with live low bits, k = 3 instead of the estimate's k = 2 came out 651
        // bytes smaller in 18.2 MB, encoding 1.5 and decoding 2 times as fast).
        if (best.Mode == ModeJoint && narrowFieldK >= 0 && narrowFieldK != best.JointBits && narrowFieldBits <= bestBits + (0.002 * 8 * TE.Size * n))
        {
            bestBits = narrowFieldBits;
            best.JointBits = narrowFieldK;
        }

        // Context mode: the exponent given the previous exponent's bucket, then k mantissa bits given the exponent.
        if (distinct <= MaxAlphabet && n >= 4096 && TE.Size != 2)
        {
            double expBits = 0;
            int nonzero = 0;
            double sampling = (double)n / Math.Max(1, (n - 1) / Math.Max(ContextSampleStride, n / 32768));
            for (int b = 0; b < ExponentContexts; b++)
            {
                ReadOnlySpan<uint> row = histContext.Slice(b * exponents, exponents);
                expBits += FrequencyTable.CostBits(row) * sampling;
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

                // The context mode decodes more slowly and its statistics come from a sample: it must save at
                // least 0.02 bits per value to be chosen.
                bits += (double)n * (1 + m - dropped - k);
                if (bits < bestBits - (0.02 * n))
                {
                    bestBits = bits;
                    best.Mode = ModePreviousExponent;
                    best.JointBits = 0;
                    best.SecondBits = k;
                }
            }
        }

        best.Bits = bestBits;
        return best;
    }

    /// <summary>
    /// Whether a 16-bit chunk's rows may differ in scale enough for row classes to pay: the mean cell of the first
    /// <see cref="RowSampleValues"/> values of <see cref="RowSampleCount"/> evenly spaced rows spreads over more than
    /// <see cref="RowSpreadExponents"/> binades. Dense weights gain next to nothing from row classes (of bytelm-base's
    /// BF16 tensors only lm_head took them, 1.2% of its bytes; estimating every chunk took BF16 encoding from 1.35 to
    /// 0.56 GB/s per thread), while the rows of LoRA B matrices differ by four to six binades (the corpus's dense
    /// weights and LoRA A matrices: at most 2.3) and code much smaller per class (the LoRA run cast to BF16: 66.1% →
    /// 62.6% of its bytes, to F16 84.7% → 81.0%); so only such chunks spend the estimate's two passes. Sampled rows
    /// whose sampled values all have a zero exponent count for nothing.
    /// </summary>
    private static unsafe bool RowScalesDiffer<TE>(byte* src, int n, FloatLayout layout, int topBits, int rowLength, int phase)
        where TE : struct, IElementAccess
    {
        long rowCount = ((long)phase + n + rowLength - 1) / rowLength;
        int cellShift = layout.MantissaBits - topBits;
        int cellMask = (1 << (layout.ExponentBits + topBits)) - 1;
        long step = Math.Max(1, rowCount / RowSampleCount);
        long lowest = long.MaxValue;
        long highest = long.MinValue;
        for (long row = 0; row < rowCount; row += step)
        {
            // Row r starts at element r × rowLength − phase (the chunk's first row is cut by its first column).
            int start = (int)Math.Max(0, (row * rowLength) - phase);
            int end = (int)Math.Min(n, Math.Min(((row + 1) * rowLength) - phase, (long)start + RowSampleValues));
            long sum = 0;
            int count = 0;
            for (int i = start; i < end; i++)
            {
                int cell = (int)(TE.Load(src, i) >> cellShift) & cellMask;
                if (cell >> topBits != 0)
                {
                    sum += cell;
                    count++;
                }
            }

            if (count > 0)
            {
                // The mean in 1/16 of a cell, so that the spread is compared without rounding each mean to a cell.
                long mean = (sum << 4) / count;
                lowest = Math.Min(lowest, mean);
                highest = Math.Max(highest, mean);
            }
        }

        return lowest <= highest && highest - lowest > (long)(RowSpreadExponents * (16 << topBits));
    }

    /// <summary>
    /// The row-class candidate: rows (of a tensor with known row length) ranked by their mean (exponent, top
    /// mantissa bits) cell and split into up to 8 equal-count classes, one prefix table per class. Pays where rows
    /// differ in scale (optimizer second moments, LoRA B matrices); replaces <paramref name="plan"/> when its
    /// estimate (entropy, tables, class ids, raw bits) saves at least 0.02 bits per value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ConsiderRowClasses<TE>(byte* src, int n, FloatLayout layout, int topBits, int rowLength, int phase, ReadOnlySpan<uint> histTop, ref Plan plan)
        where TE : struct, IElementAccess
    {
        long rowCount = ((long)phase + n + rowLength - 1) / rowLength;
        if (rowCount < 2)
        {
            return;
        }

        int rows = (int)rowCount;
        int m = layout.MantissaBits;
        int cells = 1 << (layout.ExponentBits + topBits);
        int cellShift = m - topBits;

        // Per row, the mean cell of its values with a non-zero exponent, in fixed point with 20 fractional bits, plus
        // one (0 when it has none). Row by row, so the sum and count stay in registers.
        ulong[] keys = new ulong[rows];
        ulong largest = 0;
        for (int row = 0, start = 0; row < rows; row++)
        {
            int end = Math.Min(n, start + (row == 0 ? rowLength - phase : rowLength));
            long sum = 0;
            int count = 0;
            int i = start;
            if (TE.Size == 4 && Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian)
            {
                // Eight 32-bit values at a time, in blocks short enough that no lane's sum reaches 2^31.
                Vector256<uint> cellMask = Vector256.Create((uint)(cells - 1));
                while (i + 8 <= end)
                {
                    int blockEnd = (int)Math.Min(end, i + (8L << 16));
                    Vector256<int> laneSums = Vector256<int>.Zero;
                    Vector256<int> laneCounts = Vector256<int>.Zero;
                    for (; i + 8 <= blockEnd; i += 8)
                    {
                        Vector256<int> cell = ((Vector256.Load((uint*)src + i) >>> cellShift) & cellMask).AsInt32();
                        Vector256<int> counted = ~Vector256.Equals(cell >>> topBits, Vector256<int>.Zero);
                        laneSums += cell & counted;
                        laneCounts -= counted;
                    }

                    sum += Vector256.Sum(laneSums);
                    count += Vector256.Sum(laneCounts);
                }
            }

            for (; i < end; i++)
            {
                int cell = (int)(TE.Load(src, i) >> cellShift) & (cells - 1);
                int counted = ((cell >> topBits) | -(cell >> topBits)) >>> 31;
                sum += cell & -counted;
                count += counted;
            }

            keys[row] = count == 0 ? 0 : 1 + (ulong)((sum << RowKeyFraction) / count);
            largest = Math.Max(largest, keys[row]);
            start = end;
        }

        int[] order = RankRows(keys, largest);
        int classes = Math.Min(MaxRowClasses, rows);
        byte[] classOf = new byte[rows];
        for (int r = 0; r < rows; r++)
        {
            classOf[order[r]] = (byte)((long)r * classes / rows);
        }

        uint[] hist = ArrayPool<uint>.Shared.Rent(classes * cells);
        uint[] projected = ArrayPool<uint>.Shared.Rent(cells);
        int[] usedArray = ArrayPool<int>.Shared.Rent(cells);
        try
        {
            // The cells the chunk's values fall in, ascending: every class histogram is zero elsewhere, so only these
            // are cleared, counted and projected (a small chunk uses a few hundred of the 4096).
            int used = 0;
            for (int cell = 0; cell < cells; cell++)
            {
                if (histTop[cell] != 0)
                {
                    usedArray[used++] = cell;
                }
            }

            ReadOnlySpan<int> usedCells = usedArray.AsSpan(0, used);
            Span<uint> h = hist.AsSpan(0, classes * cells);
            for (int c = 0; c < classes; c++)
            {
                foreach (int cell in usedCells)
                {
                    h[(c * cells) + cell] = 0;
                }
            }

            for (int row = 0, start = 0; row < rows; row++)
            {
                int end = Math.Min(n, start + (row == 0 ? rowLength - phase : rowLength));
                Span<uint> classHistogram = h.Slice(classOf[row] * cells, cells);
                for (int i = start; i < end; i++)
                {
                    classHistogram[(int)(TE.Load(src, i) >> cellShift) & (cells - 1)]++;
                }

                start = end;
            }

            int kMax = Math.Min(topBits, m - plan.DroppedBits);
            for (int k = 0; k <= kMax; k++)
            {
                // A symbol is a cell without its low topBits - k bits; the used cells give its alphabet.
                int drop = topBits - k;
                int alphabet = 0;
                int previous = -1;
                foreach (int cell in usedCells)
                {
                    alphabet += (cell >> drop) != previous ? 1 : 0;
                    previous = cell >> drop;
                }

                if (alphabet > MaxAlphabet)
                {
                    continue;
                }

                double bits = 0;
                int nonzero = 0;
                for (int c = 0; c < classes; c++)
                {
                    // The class's counts per used symbol, in symbol order (the cost sums them in that order).
                    int length = 0;
                    previous = -1;
                    foreach (int cell in usedCells)
                    {
                        uint count = h[(c * cells) + cell];
                        if ((cell >> drop) != previous)
                        {
                            projected[length++] = count;
                            previous = cell >> drop;
                        }
                        else
                        {
                            projected[length - 1] += count;
                        }
                    }

                    ReadOnlySpan<uint> p = projected.AsSpan(0, length);
                    foreach (uint count in p)
                    {
                        nonzero += count != 0 ? 1 : 0;
                    }

                    bits += FrequencyTable.CostBits(p);
                }

                bits += 8.0 * nonzero * 1.6;
                bits += (rows * Math.Log2(classes)) + (8.0 * (classes + 16));
                bits += (double)n * (1 + m - plan.DroppedBits - k);
                if (bits < plan.Bits - (0.02 * n))
                {
                    plan.Mode = ModeRowClass;
                    plan.JointBits = k;
                    plan.SecondBits = 0;
                    plan.RowLength = rowLength;
                    plan.Phase = phase;
                    plan.Classes = classes;
                    plan.RowClass = classOf;
                    plan.Bits = bits;
                }
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(hist);
            ArrayPool<uint>.Shared.Return(projected);
            ArrayPool<int>.Shared.Return(usedArray);
        }
    }

    /// <summary>Fractional bits of a row's mean cell in its ranking key: rows closer than 2^-20 of a cell rank by index.</summary>
    private const int RowKeyFraction = 20;

    /// <summary>Rows <see cref="RowScalesDiffer"/> samples, at most.</summary>
    private const int RowSampleCount = 32;

    /// <summary>Values of each sampled row <see cref="RowScalesDiffer"/> reads, at most.</summary>
    private const int RowSampleValues = 32;

    /// <summary>The spread of sampled row means, in binades, above which a 16-bit chunk's row classes are estimated.</summary>
    private const double RowSpreadExponents = 3;

    /// <summary>Bits of the ranking key sorted per pass of <see cref="RankRows"/>.</summary>
    private const int RowKeyDigitBits = 11;

    /// <summary>
    /// The rows in increasing key order, equal keys in row order: a stable least-significant-digit radix sort, as many
    /// passes of <see cref="RowKeyDigitBits"/> as <paramref name="largest"/> needs (three for F32 chunks). It replaces a
    /// comparison sort of the rows' means that took a sixth of packing a LoRA checkpoint (2,304-row tensors of 8 values).
    /// </summary>
    internal static int[] RankRows(ulong[] keys, ulong largest)
    {
        int rows = keys.Length;
        int[] order = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            order[r] = r;
        }

        int[] spare = ArrayPool<int>.Shared.Rent(rows);
        Span<int> starts = stackalloc int[1 << RowKeyDigitBits];
        try
        {
            int[] from = order;
            int[] to = spare;
            for (int shift = 0; shift < 64 && (largest >> shift) != 0; shift += RowKeyDigitBits)
            {
                starts.Clear();
                for (int r = 0; r < rows; r++)
                {
                    starts[(int)(keys[from[r]] >> shift) & ((1 << RowKeyDigitBits) - 1)]++;
                }

                int total = 0;
                for (int d = 0; d < starts.Length; d++)
                {
                    (starts[d], total) = (total, total + starts[d]);
                }

                for (int r = 0; r < rows; r++)
                {
                    int row = from[r];
                    to[starts[(int)(keys[row] >> shift) & ((1 << RowKeyDigitBits) - 1)]++] = row;
                }

                (from, to) = (to, from);
            }

            if (from != order)
            {
                from.AsSpan(0, rows).CopyTo(order);
            }

            return order;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(spare);
        }
    }

    /// <summary>
    /// Counts 16-bit values whole (one increment per value, no per-value OR), then folds the 65536 counts into the
    /// (exponent, top mantissa bits) cells of a layout with <paramref name="m"/> mantissa bits, 8 exponent bits or
    /// fewer and at least three mantissa bits below the cell. A cell's OR gets the mantissa bits below it shifted up
    /// by <paramref name="lowShift"/> (16 when the values are the top halves of F32 values), and its sign flags. The
    /// thread's histogram is cleared on the way and handed back all zero, so the next chunk need not clear 256 KiB
    /// (it is taken out of the cache while in use, so an exception cannot leave a dirty one behind).
    /// </summary>
    /// <returns>The OR of every value's mantissa, shifted up by <paramref name="lowShift"/>.</returns>
    private static unsafe ulong CountWholeValues(ushort* values, int n, int m, int topBits, int lowShift, uint* ht, ulong* co)
    {
        ulong mantMask = (1UL << m) - 1;
        ulong belowTop = (1UL << (m - topBits)) - 1;
        int expMask = (1 << (15 - m)) - 1;
        ulong orMantissa = 0;
        uint[] whole = t_wholeValueCounts ?? new uint[1 << 16];
        t_wholeValueCounts = null;
        fixed (uint* h = whole)
        {
            CountValues16((byte*)values, n, h);

            // Only the counts from the smallest to the largest value of each sign can be non-zero: the rest of the
            // 256 KiB (out of cache by now in a long run of chunks) is not read. A chunk of a quarter million values or
            // more folds everything: there the extra pass would cost more than it saves.
            (int lowPositive, int highPositive, int lowNegative, int highNegative) = n < RangedFoldLimit
                ? ValueRanges16(values, n)
                : (0, 0x7FFF, 0x8000, 0xFFFF);
            for (int v = Math.Min(lowPositive, lowNegative) & ~63; v < 1 << 16; v += 64)
            {
                if (v > highPositive && v < (lowNegative & ~63))
                {
                    // Past the positive values: on to the negative ones, if any.
                    v = (lowNegative & ~63) - 64;
                    continue;
                }

                if (v > highNegative && v >= 0x8000)
                {
                    break;
                }

                // Most of the 65536 values never occur: skip 64 empty counts at a time.
                if ((Vector256.Load(h + v) | Vector256.Load(h + v + 8) | Vector256.Load(h + v + 16) | Vector256.Load(h + v + 24)
                    | Vector256.Load(h + v + 32) | Vector256.Load(h + v + 40) | Vector256.Load(h + v + 48) | Vector256.Load(h + v + 56)) == Vector256<uint>.Zero)
                {
                    continue;
                }

                // Eight consecutive values share a cell (the cell keeps at least three mantissa bits below it) and a
                // sign: the group adds its sum, and its low bits are the OR of its occupied lanes.
                for (int g = v; g < v + 64; g += 8)
                {
                    Vector256<uint> counts = Vector256.Load(h + g);
                    uint occupied = ~Vector256.Equals(counts, Vector256<uint>.Zero).ExtractMostSignificantBits() & 0xFF;
                    if (occupied == 0)
                    {
                        continue;
                    }

                    Vector256<uint>.Zero.Store(h + g);
                    ulong lanes = ((occupied & 0xAA) != 0 ? 1UL : 0) | ((occupied & 0xCC) != 0 ? 2UL : 0) | ((occupied & 0xF0) != 0 ? 4UL : 0);
                    int e = (g >> m) & expMask;
                    ulong mant = ((ulong)g & mantMask) | lanes;
                    ulong sign = (ulong)(g >> 15) & 1;
                    orMantissa |= mant << lowShift;
                    int cell = (e << topBits) | (int)(mant >> (m - topBits));
                    ht[cell] += Vector256.Sum(counts);
                    co[cell] |= ((mant & belowTop) << lowShift) | (sign << 62) | ((sign ^ 1) << 63);
                }
            }
        }

        t_wholeValueCounts = whole;
        return orMantissa;
    }

    /// <summary>Whether every 32-bit value has a zero low half (vector OR over the chunk).</summary>
    private static unsafe bool HighHalvesOnly(uint* values, int n)
    {
        if (!BitConverter.IsLittleEndian)
        {
            return false;
        }

        var low = Vector256.Create(0xFFFFu);
        var any = Vector256<uint>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            any |= (Vector256.Load(values + i) | Vector256.Load(values + i + 8) | Vector256.Load(values + i + 16) | Vector256.Load(values + i + 24)) & low;
            if ((i & 4095) == 0 && any != Vector256<uint>.Zero)
            {
                return false;
            }
        }

        uint tail = 0;
        for (; i < n; i++)
        {
            tail |= values[i] & 0xFFFF;
        }

        return any == Vector256<uint>.Zero && tail == 0;
    }

    /// <summary>The top 16 bits of each 32-bit value.</summary>
    private static unsafe void HighHalves(uint* values, int n, ushort* halves)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256.Narrow(Vector256.Load(values + i) >>> 16, Vector256.Load(values + i + 8) >>> 16).Store(halves + i);
        }

        for (; i < n; i++)
        {
            halves[i] = (ushort)(values[i] >> 16);
        }
    }

    /// <summary>
    /// Counts every value into its (exponent, top mantissa bits) cell and ORs into the cell the mantissa bits below it
    /// and the value's sign (bit 62 negative, bit 63 positive). A method of its own so that the running OR stays in a
    /// register: inlined into <see cref="Analyse"/>, the JIT stored and reloaded it for every value (a few percent of
    /// an F32 chunk's encode).
    /// </summary>
    /// <returns>The OR of every value's mantissa.</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe ulong CountCells<TE>(byte* src, int n, int m, int expMask, int topBits, int signShift, uint* counts, ulong* cellOr)
        where TE : struct, IElementAccess
    {
        ulong mantMask = (1UL << m) - 1;
        ulong belowTop = (1UL << (m - topBits)) - 1;
        ulong orMantissa = 0;
        for (int i = 0; i < n; i++)
        {
            ulong v = TE.Load(src, i);
            int e = (int)(v >> m) & expMask;
            ulong mant = v & mantMask;
            ulong sign = (v >> signShift) & 1;
            orMantissa |= mant;
            int cell = (e << topBits) | (int)(mant >> (m - topBits));
            counts[cell]++;
            cellOr[cell] |= (mant & belowTop) | (sign << 62) | ((sign ^ 1) << 63);
        }

        return orMantissa;
    }

    /// <summary>
    /// The smallest and largest positive (sign bit clear) and negative 16-bit values, as unsigned integers; an empty
    /// sign's range is (65536, -1), which selects nothing.
    /// </summary>
    private static unsafe (int LowPositive, int HighPositive, int LowNegative, int HighNegative) ValueRanges16(ushort* values, int n)
    {
        if (!BitConverter.IsLittleEndian)
        {
            // The vector loads below read values as they lie in memory: on a big-endian machine, take every value.
            return (0, 0x7FFF, 0x8000, 0xFFFF);
        }

        var lowP = Vector256.Create(ushort.MaxValue);
        var highP = Vector256<ushort>.Zero;
        var lowN = Vector256.Create(ushort.MaxValue);
        var highN = Vector256<ushort>.Zero;
        var signBit = Vector256.Create((ushort)0x8000);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256<ushort> v = Vector256.Load(values + i);
            Vector256<ushort> negative = Vector256.Equals(v & signBit, signBit);
            lowP = Vector256.Min(lowP, v | negative);
            highP = Vector256.Max(highP, Vector256.AndNot(v, negative));
            lowN = Vector256.Min(lowN, v | ~negative);
            highN = Vector256.Max(highN, v & negative);
        }

        // Lanes that saw no value of a sign hold 0xFFFF as its low and 0 as its high: only the reduced bounds tell.
        int lowPositive = 65536, highPositive = -1, lowNegative = 65536, highNegative = -1;
        if (i > 0)
        {
            int low = ushort.MaxValue, high = 0;
            for (int lane = 0; lane < 16; lane++)
            {
                low = Math.Min(low, lowP.GetElement(lane));
                high = Math.Max(high, highP.GetElement(lane));
            }

            if (low < 0x8000)
            {
                (lowPositive, highPositive) = (low, high);
            }

            (low, high) = (ushort.MaxValue, 0);
            for (int lane = 0; lane < 16; lane++)
            {
                low = Math.Min(low, lowN.GetElement(lane));
                high = Math.Max(high, highN.GetElement(lane));
            }

            if (high >= 0x8000)
            {
                (lowNegative, highNegative) = (low, high);
            }
        }

        for (; i < n; i++)
        {
            Include(BitConverter.IsLittleEndian ? values[i] : BinaryPrimitives.ReverseEndianness(values[i]), ref lowPositive, ref highPositive, ref lowNegative, ref highNegative);
        }

        return (lowPositive, highPositive, lowNegative, highNegative);
    }

    private static void Include(int value, ref int lowPositive, ref int highPositive, ref int lowNegative, ref int highNegative)
    {
        if (value < 0x8000)
        {
            lowPositive = Math.Min(lowPositive, value);
            highPositive = Math.Max(highPositive, value);
        }
        else
        {
            lowNegative = Math.Min(lowNegative, value);
            highNegative = Math.Max(highNegative, value);
        }
    }

    /// <summary>Counts each little-endian 16-bit value of <paramref name="src"/> into <paramref name="histogram"/> (65536 entries).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void CountValues16(byte* src, int n, uint* histogram)
    {
        ushort* values = (ushort*)src;
        int i = 0;
        if (BitConverter.IsLittleEndian)
        {
            // Four values per 64-bit load; their increments are independent unless values repeat.
            for (; i + 4 <= n; i += 4)
            {
                ulong four = *(ulong*)(values + i);
                histogram[(ushort)four]++;
                histogram[(ushort)(four >> 16)]++;
                histogram[(ushort)(four >> 32)]++;
                histogram[(ushort)(four >> 48)]++;
            }
        }

        for (; i < n; i++)
        {
            histogram[BitConverter.IsLittleEndian ? values[i] : BinaryPrimitives.ReverseEndianness(values[i])]++;
        }
    }

    /// <summary>Builds symbols and tables for <paramref name="plan"/> and writes the payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Write<TE>(byte* src, int n, FloatLayout layout, Plan plan, ReadOnlySpan<uint> histTop, ulong[] cellOr, int topBits, Span<byte> symbols, Span<byte> destination)
        where TE : struct, IElementAccess
    {
        int m = layout.MantissaBits;
        ulong mantMask = (1UL << m) - 1;
        int k1 = plan.JointBits;
        int k2 = plan.SecondBits;
        int prefixShift = m - k1;
        int prefixSpace = 1 << (layout.ExponentBits + k1);

        // The joint mode takes its counts from the analysis histogram and codes straight from the source; the
        // context modes need a symbol pass, which maps each value's prefix to its symbol.
        bool direct = plan.Mode == ModeJoint && k2 == 0;

        // The alphabet is every (exponent, k1 mantissa bits) prefix the histogram saw, in increasing order.
        int[]? mapArray = direct ? null : ArrayPool<int>.Shared.Rent(prefixSpace);
        byte[]? valueContext = null;
        try
        {
            Span<int> map = direct ? [] : mapArray.AsSpan(0, prefixSpace);
            Span<int> prefixes = stackalloc int[MaxAlphabet];
            int alphabet = 0;
            int group = 1 << (topBits - k1);
            int topCount = 1 << topBits;
            map.Fill(-1);
            for (int e = 0; e < 1 << layout.ExponentBits; e++)
            {
                // Most exponents never occur: skip their cells at once.
                ReadOnlySpan<uint> cells = histTop.Slice(e << topBits, topCount);
                if (topCount == 16 ? (Vector256.Create(cells) | Vector256.Create(cells[8..])) == Vector256<uint>.Zero : cells.IndexOfAnyExcept(0u) < 0)
                {
                    continue;
                }

                for (int p = e << k1; p < (e + 1) << k1; p++)
                {
                    uint c = 0;
                    int baseIndex = ((p >> k1) << topBits) + ((p & ((1 << k1) - 1)) * group);
                    for (int g = 0; g < group; g++)
                    {
                        c += histTop[baseIndex + g];
                    }

                    if (c == 0)
                    {
                        continue;
                    }

                    if (alphabet == MaxAlphabet)
                    {
                        return -1;
                    }

                    if (!direct)
                    {
                        map[p] = alphabet;
                    }

                    prefixes[alphabet++] = p;
                }
            }

            prefixes = prefixes[..alphabet];
            int contexts = plan.Mode switch { ModePreviousExponent => ExponentContexts, ModeRowClass => plan.Classes, _ => 1 };

            // Row-class mode: every value's context (its row's class), laid out once for both passes.
            if (plan.Mode == ModeRowClass)
            {
                valueContext = ArrayPool<byte>.Shared.Rent(n);
                for (int row = 0, start = 0; start < n; row++)
                {
                    int end = Math.Min(n, start + (row == 0 ? plan.RowLength - plan.Phase : plan.RowLength));
                    valueContext.AsSpan(start, end - start).Fill(plan.RowClass![row]);
                    start = end;
                }
            }

            Span<byte> contextOf = stackalloc byte[alphabet];
            for (int a = 0; a < alphabet; a++)
            {
                contextOf[a] = plan.Mode == ModePreviousExponent ? (byte)Bucket(prefixes[a] >> k1, plan.Center) : (byte)0;
            }

            int firstContext = plan.Mode == ModePreviousExponent ? Bucket(plan.Center, plan.Center) : 0;

            // Symbols, exact counts, and per symbol the low mantissa bits that are zero in all its values.
            Span<byte> symA = symbols.IsEmpty ? [] : symbols[..n];
            Span<byte> symB = symbols.IsEmpty ? [] : symbols.Slice(n, n);
            int secondCount = 1 << k2;
            int secondShift = m - k1 - k2;
            int secondMask = secondCount - 1;
            ulong lowMask = (1UL << secondShift) - 1;
            uint[] countArray = ArrayPool<uint>.Shared.Rent((contexts * alphabet) + (alphabet * secondCount));
            try
            {
                Span<uint> countsA = countArray.AsSpan(0, contexts * alphabet);
                Span<uint> countsBySymbol = countArray.AsSpan(contexts * alphabet, alphabet * secondCount);
                countsA.Clear();
                countsBySymbol.Clear();
                // Per symbol: OR of the low mantissa bits (bits 0..51), whether a negative (bit 62) and a
                // positive (bit 63) value occurred.
                Span<ulong> lowOr = stackalloc ulong[alphabet];
                lowOr.Clear();
                int signShift = layout.Bits - 1;
                Span<byte> symbolOf = stackalloc byte[direct ? prefixSpace : 0];

                // The low bits and signs each symbol's values use, from the analysis cells (a cell's bits below the
                // prefix are its index g in the prefix's group, then the bits the cell's OR holds); the joint mode also
                // takes its counts from them.
                ulong lowAndSigns = lowMask | (3UL << 62);
                for (int a = 0; a < alphabet; a++)
                {
                    int p = prefixes[a];
                    int baseIndex = ((p >> k1) << topBits) + ((p & ((1 << k1) - 1)) * group);
                    uint total = 0;
                    for (int g = 0; g < group; g++)
                    {
                        uint c = histTop[baseIndex + g];
                        total += c;
                        if (c != 0)
                        {
                            lowOr[a] |= (cellOr[baseIndex + g] | ((ulong)g << (m - topBits))) & lowAndSigns;
                        }
                    }

                    if (direct)
                    {
                        symbolOf[p] = (byte)a;
                        countsA[a] = total;
                        countsBySymbol[a] = total;
                    }
                }

                if (!direct)
                {
                    fixed (int* mp = map)
                    fixed (byte* sa = symA)
                    fixed (byte* sb = symB)
                    fixed (uint* ca = countsA)
                    fixed (uint* cb = countsBySymbol)
                    fixed (byte* co = contextOf)
                    fixed (byte* vc = valueContext)
                    {
                        CountSymbols<TE>(src, n, mp, prefixShift, prefixSpace - 1, secondShift, secondMask, sa, sb, ca, cb, alphabet, secondCount, co, vc, firstContext);
                    }

                    for (int a = 0; a < alphabet && secondCount == 1; a++)
                    {
                        uint total = 0;
                        for (int c = 0; c < contexts; c++)
                        {
                            total += countsA[(c * alphabet) + a];
                        }

                        countsBySymbol[a] = total;
                    }
                }

                Span<byte> dropped = stackalloc byte[alphabet];
                Span<byte> signRaw = stackalloc byte[alphabet];
                Span<byte> attributes = stackalloc byte[alphabet];
                Span<byte> rawBits = stackalloc byte[alphabet];
                Span<uint> totals = stackalloc uint[alphabet];
                long totalRawBits = 0;
                for (int a = 0; a < alphabet; a++)
                {
                    ulong low = lowOr[a] & ((1UL << 62) - 1);
                    int d = low == 0 ? secondShift : BitOperations.TrailingZeroCount(low);
                    bool anyNegative = (lowOr[a] & (1UL << 62)) != 0;
                    bool anyPositive = (lowOr[a] & (1UL << 63)) != 0;
                    int signMode = anyNegative && anyPositive ? SignRaw : anyNegative ? SignNegative : SignPositive;
                    dropped[a] = (byte)d;
                    signRaw[a] = (byte)(signMode == SignRaw ? 1 : 0);
                    attributes[a] = (byte)(d | (signMode << 6));
                    rawBits[a] = (byte)(signRaw[a] + secondShift - d);
                    uint total = 0;
                    for (int b = 0; b < secondCount; b++)
                    {
                        total += countsBySymbol[(a * secondCount) + b];
                    }

                    totalRawBits += (long)total * rawBits[a];
                    totals[a] = total;
                }

                // Per-symbol attributes pay only on rare symbols (a lone value drops all its low bits); the decoder's
                // fast path needs one raw width for every symbol. Give that up only when it saves over 0.1%.
                int uniformDropped = secondShift;
                int uniformMode = attributes[0] >> 6;
                for (int a = 0; a < alphabet; a++)
                {
                    uniformDropped = Math.Min(uniformDropped, dropped[a]);
                    uniformMode = (attributes[a] >> 6) == uniformMode ? uniformMode : SignRaw;
                }

                int uniformBits = (uniformMode == SignRaw ? 1 : 0) + secondShift - uniformDropped;
                if (((long)n * uniformBits) - totalRawBits <= (totalRawBits / 1024) + 256)
                {
                    for (int a = 0; a < alphabet; a++)
                    {
                        dropped[a] = (byte)uniformDropped;
                        signRaw[a] = (byte)(uniformMode == SignRaw ? 1 : 0);
                        attributes[a] = (byte)(uniformDropped | (uniformMode << 6));
                        rawBits[a] = (byte)uniformBits;
                    }

                    totalRawBits = (long)n * uniformBits;
                }

                // Second-symbol contexts: the commonest exponents get their own table, the rest share the last.
                int secondContexts = k2 == 0 ? 0 : Math.Min(alphabet, MaxSecondContexts);
                Span<byte> secondOf = stackalloc byte[alphabet];
                secondOf.Clear();
                if (k2 > 0)
                {
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
                if (destination.Length < 16 + alphabet)
                {
                    return -1;
                }

                destination[pos++] = Version;
                VarInt.TryWrite(destination, ref pos, (ulong)n);
                destination[pos++] = (byte)plan.Mode;
                destination[pos++] = (byte)k1;
                destination[pos++] = (byte)k2;
                if (!VarInt.TryWrite(destination, ref pos, (ulong)alphabet))
                {
                    return -1;
                }

                if (!WritePrefixes(prefixes, destination, ref pos) || !WriteRuns(attributes, destination, ref pos))
                {
                    return -1;
                }

                if (plan.Mode == ModePreviousExponent && !VarInt.TryWrite(destination, ref pos, (ulong)plan.Center))
                {
                    return -1;
                }

                if (plan.Mode == ModeRowClass
                    && !(VarInt.TryWrite(destination, ref pos, (ulong)plan.RowLength)
                        && VarInt.TryWrite(destination, ref pos, (ulong)plan.Phase)
                        && VarInt.TryWrite(destination, ref pos, (ulong)plan.Classes)
                        && ByteStreamCoder.TryEncode(plan.RowClass, destination, ref pos)))
                {
                    return -1;
                }

                int sizeA = contexts * alphabet;
                int sizeB = secondContexts * secondCount;
                ushort[] freqArray = ArrayPool<ushort>.Shared.Rent(Math.Max(alphabet, secondCount));
                RansEncodeSymbol[] encArray = ArrayPool<RansEncodeSymbol>.Shared.Rent(sizeA + sizeB);
                try
                {
                    Span<ushort> f = freqArray.AsSpan();
                    Span<RansEncodeSymbol> encA = encArray.AsSpan(0, sizeA);
                    Span<RansEncodeSymbol> encB = encArray.AsSpan(sizeA, sizeB);
                    for (int c = 0; c < contexts; c++)
                    {
                        if (!WriteTable(countsA.Slice(c * alphabet, alphabet), f[..alphabet], encA.Slice(c * alphabet, alphabet), destination, ref pos))
                        {
                            return -1;
                        }
                    }

                    if (k2 > 0)
                    {
                        if (!VarInt.TryWrite(destination, ref pos, (ulong)secondContexts) || !secondOf.TryCopyTo(destination[pos..]))
                        {
                            return -1;
                        }

                        pos += alphabet;
                        for (int c = 0; c < secondContexts; c++)
                        {
                            if (!WriteTable(countsB.Slice(c * secondCount, secondCount), f[..secondCount], encB.Slice(c * secondCount, secondCount), destination, ref pos))
                            {
                                return -1;
                            }
                        }
                    }

                    long rawBytes = (totalRawBits + 7) / 8;

                    // The joint mode's final block of values keeps its last raw bytes in the rANS states.
                    long symbolCount = (long)n * (k2 > 0 ? 2 : 1);
                    int lanes = LanesFor(plan.Mode, k2, n);
                    int stashed = 0;
                    if (direct)
                    {
                        // The final block's field bits: a multiple of the one width most chunks have.
                        long tailBits = (long)(n - FinalBlockStart(n)) * rawBits[0];
                        if (rawBits.IndexOfAnyExcept(rawBits[0]) >= 0)
                        {
                            tailBits = 0;
                            fixed (byte* so0 = symbolOf)
                            {
                                for (int i = FinalBlockStart(n); i < n; i++)
                                {
                                    tailBits += rawBits[so0[(int)(TE.Load(src, i) >> prefixShift) & (prefixSpace - 1)]];
                                }
                            }
                        }

                        stashed = StashLength(lanes, totalRawBits - tailBits, totalRawBits);
                    }

                    if (!VarInt.TryWrite(destination, ref pos, (ulong)(rawBytes - stashed)))
                    {
                        return -1;
                    }

                    // The raw writer stores 8 bytes at a time (8 bytes of room past the raw stream), and every symbol
                    // emits at most one 2-byte word after the states.
                    int stateBytes = lanes * 4;
                    long room = destination.Length - pos - (rawBytes - stashed);
                    if (room - stashed < 8 || room < Math.Min(stateBytes + (2L * symbolCount), stateBytes + 16))
                    {
                        return -1;
                    }

                    Span<uint> initial = stackalloc uint[lanes];
                    int streamLength;
                    fixed (byte* d = destination)
                    fixed (byte* sa = symA)
                    fixed (byte* sb = symB)
                    fixed (RansEncodeSymbol* ea = encA)
                    fixed (RansEncodeSymbol* eb = encB)
                    fixed (byte* co = contextOf)
                    fixed (byte* so = secondOf)
                    fixed (byte* vc = valueContext)
                    fixed (uint* x0 = initial)
                    fixed (int* pf = prefixes)
                    {
                        // Raw stream: per value the sign, then the low mantissa bits its symbol keeps.
                        // The writer's state stays in locals; each value stores 8 bytes (room was reserved).
                        ulong buffer = 0;
                        int bitCount = 0;
                        byte* wp = d + pos;
                        // Per symbol, packed for one load: dropped bits, whether the sign is raw, field width.
                        Span<uint> fieldOf = stackalloc uint[alphabet];
                        for (int a = 0; a < alphabet; a++)
                        {
                            fieldOf[a] = dropped[a] | ((uint)signRaw[a] << 8) | ((uint)rawBits[a] << 16);
                        }

                        int first = 0;
                        int width = rawBits[0];
                        if (width is > 0 and <= 8 && fieldOf.IndexOfAnyExcept(fieldOf[0]) < 0)
                        {
                            // One field width of at most 8 bits: eight values fill exactly `width` bytes, and their
                            // fields do not depend on each other's positions.
                            FieldPacker.Pack<TE>(src, n / 8, width, secondShift, dropped[0], signRaw[0] != 0, wp);
                            first = n & ~7;
                            wp += (nint)width * (n / 8);
                        }
                        else if (width is > 8 and <= 28 && fieldOf.IndexOfAnyExcept(fieldOf[0]) < 0)
                        {
                            wp = WritePairs<TE>(src, n & ~1, fieldOf[0], lowMask, signShift, wp, ref buffer, ref bitCount);
                            first = n & ~1;
                        }

                        int widest = 0;
                        foreach (byte b in rawBits)
                        {
                            widest = Math.Max(widest, b);
                        }

                        fixed (uint* fo = fieldOf)
                        {
                            if (direct)
                            {
                                // The joint mode has no symbol pass: its fields are looked up by prefix.
                                uint[] byPrefix = ArrayPool<uint>.Shared.Rent(prefixSpace);
                                try
                                {
                                    // Prefixes outside the alphabet never occur in the source; give them symbol 0's harmless field.
                                    byPrefix.AsSpan(0, prefixSpace).Fill(fo[0]);
                                    for (int a = 0; a < alphabet; a++)
                                    {
                                        byPrefix[prefixes[a]] = fo[a];
                                    }

                                    fixed (uint* bp = byPrefix)
                                    {
                                        wp = WriteFields<TE, PrefixFields>(src, first, n, new PrefixFields(bp, prefixShift, prefixSpace - 1), widest, lowMask, signShift, wp, ref buffer, ref bitCount);
                                    }
                                }
                                finally
                                {
                                    ArrayPool<uint>.Shared.Return(byPrefix);
                                }
                            }
                            else
                            {
                                wp = WriteFields<TE, SymbolFields>(src, first, n, new SymbolFields(fo, sa), widest, lowMask, signShift, wp, ref buffer, ref bitCount);
                            }
                        }

                        if (wp + ((bitCount + 7) >> 3) != d + pos + rawBytes)
                        {
                            throw new InvalidOperationException("float-split raw stream length disagrees with its count");
                        }

                        pos += (int)(rawBytes - stashed);
                        Stash(new ReadOnlySpan<byte>(d + pos, stashed), new Span<uint>(x0, lanes));

                        // The rANS stream is coded backwards into the rest of the destination, then moved to follow the raw stream.
                        byte* areaStart = d + pos;
                        byte* areaEnd = d + destination.Length;
                        fixed (byte* so0 = symbolOf)
                        {
                            streamLength = direct
                                ? EncodeJoint<TE>(src, n, so0, pf, prefixShift, prefixSpace - 1, ea, alphabet, x0, lanes, areaStart, areaEnd)
                                : EncodeWithContexts(sa, sb, n, ea, eb, sizeA + sizeB, co, so, vc, alphabet, secondCount, firstContext, k2 > 0, x0, lanes, areaStart, areaEnd);
                        }

                        if (streamLength < 0)
                        {
                            return -1;
                        }

                        Buffer.MemoryCopy(areaEnd - streamLength, areaStart, streamLength, streamLength);
                    }

                    return pos + streamLength;
                }
                finally
                {
                    ArrayPool<ushort>.Shared.Return(freqArray);
                    ArrayPool<RansEncodeSymbol>.Shared.Return(encArray);
                }
            }
            finally
            {
                ArrayPool<uint>.Shared.Return(countArray);
            }
        }
        finally
        {
            if (mapArray is not null)
            {
                ArrayPool<int>.Shared.Return(mapArray);
            }

            if (valueContext is not null)
            {
                ArrayPool<byte>.Shared.Return(valueContext);
            }
        }
    }

    /// <summary>
    /// The context modes' symbol pass: each value's symbol (by prefix, through <paramref name="map"/>) and second symbol
    /// (the next mantissa bits), and their counts, the symbol's in its context (its row's class when
    /// <paramref name="valueContext"/> is given, else the previous symbol's bucket). A method of its own so that its
    /// state stays in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void CountSymbols<TE>(
        byte* src, int n, int* map, int prefixShift, int prefixMask, int secondShift, int secondMask, byte* symA, byte* symB, uint* countsA, uint* countsB, int alphabet, int secondCount, byte* contextOf, byte* valueContext, int firstContext)
        where TE : struct, IElementAccess
    {
        int ctx = firstContext;
        if (secondCount == 1)
        {
            // No second symbol (every row-class chunk): only the symbol and its count in its context; the caller sums
            // a symbol's counts over the contexts. A second count per value cost a fifth of the pass.
            for (int i = 0; i < n; i++)
            {
                ctx = valueContext == null ? ctx : valueContext[i];
                int a = map[(int)(TE.Load(src, i) >> prefixShift) & prefixMask];
                symA[i] = (byte)a;
                countsA[(ctx * alphabet) + a]++;
                ctx = contextOf[a];
            }

            return;
        }

        for (int i = 0; i < n; i++)
        {
            ctx = valueContext == null ? ctx : valueContext[i];
            ulong v = TE.Load(src, i);
            int a = map[(int)(v >> prefixShift) & prefixMask];
            int b = (int)(v >> secondShift) & secondMask;
            symA[i] = (byte)a;
            symB[i] = (byte)b;
            countsA[(ctx * alphabet) + a]++;
            countsB[(a * secondCount) + b]++;
            ctx = contextOf[a];
        }
    }

    /// <summary>
    /// Appends the raw fields of values 0 to <paramref name="n"/> (even), all described by <paramref name="field"/> with a
    /// width of 9 to 28 bits (F32 chunks): two values' fields join before each append, so the writer's dependency chain
    /// advances once per pair.
    /// </summary>
    /// <returns>The write position after the last whole byte.</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe byte* WritePairs<TE>(byte* src, int n, uint field, ulong lowMask, int signShift, byte* wp, ref ulong buffer, ref int bitCount)
        where TE : struct, IElementAccess
    {
        ulong pending = buffer;
        int count = bitCount;
        int pairWidth = 2 * (int)(field >> 16);
        for (int i = 0; i < n; i += 2)
        {
            ulong v0 = TE.Load(src, i);
            ulong v1 = TE.Load(src, i + 1);
            Append(ref wp, ref pending, ref count, Field(v0, field, lowMask, signShift) | (Field(v1, field, lowMask, signShift) << (pairWidth / 2)), pairWidth);
        }

        buffer = pending;
        bitCount = count;
        return wp;
    }

    /// <summary>
    /// Appends <paramref name="width"/> bits (at most 57 with the 7 pending) to the raw stream: the 8-byte store puts
    /// every pending bit in place, then the write position moves past the whole bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Append(ref byte* wp, ref ulong pending, ref int count, ulong bits, int width)
    {
        pending |= bits << count;
        count += width;
        *(ulong*)wp = BitConverter.IsLittleEndian ? pending : BinaryPrimitives.ReverseEndianness(pending);
        int whole = count & ~7;
        wp += whole >> 3;
        pending >>= whole;
        count &= 7;
    }

    /// <summary>A value's raw field description (dropped bits in bits 0..7, raw sign in bit 8, width from bit 16), by its index and bits.</summary>
    private interface IFieldLookup
    {
        uint Info(int index, ulong value);
    }

    /// <summary>The joint mode's lookup: by the value's prefix.</summary>
    private readonly unsafe struct PrefixFields(uint* fieldOfPrefix, int prefixShift, int prefixMask) : IFieldLookup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Info(int index, ulong value) => fieldOfPrefix[(int)(value >> prefixShift) & prefixMask];
    }

    /// <summary>The context modes' lookup: by the symbol the symbol pass found.</summary>
    private readonly unsafe struct SymbolFields(uint* fieldOf, byte* symbols) : IFieldLookup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Info(int index, ulong value) => fieldOf[symbols[index]];
    }

    /// <summary>A value's raw field: the low mantissa bits its symbol keeps, above the sign when that is raw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Field(ulong value, uint info, ulong lowMask, int signShift)
    {
        ulong keep = (info >> 8) & 1;
        return (((value & lowMask) >> (int)(info & 0xFF)) << (int)keep) | ((value >> signShift) & keep);
    }

    /// <summary>
    /// Appends the raw fields of values <paramref name="first"/> to <paramref name="n"/> at <paramref name="wp"/> (the bit
    /// writer's pending bits in <paramref name="buffer"/>), each as <paramref name="fields"/> describes it. Fields of at
    /// most 14 bits are joined four at a time before the append (at most 56 bits beside the 7 pending), fields of at most
    /// 28 bits two at a time, so the writer's dependency chain advances once per four or two values. A method of its own
    /// so that the writer's state stays in registers: inlined into <see cref="Write"/>, the JIT kept it on the stack.
    /// </summary>
    /// <returns>The write position after the last whole byte.</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe byte* WriteFields<TE, TF>(byte* src, int first, int n, TF fields, int widest, ulong lowMask, int signShift, byte* wp, ref ulong buffer, ref int bitCount)
        where TE : struct, IElementAccess
        where TF : struct, IFieldLookup
    {
        ulong pending = buffer;
        int count = bitCount;
        int i = first;
        if (widest <= 14)
        {
            for (; i + 4 <= n; i += 4)
            {
                ulong v0 = TE.Load(src, i);
                ulong v1 = TE.Load(src, i + 1);
                ulong v2 = TE.Load(src, i + 2);
                ulong v3 = TE.Load(src, i + 3);
                uint i0 = fields.Info(i, v0);
                uint i1 = fields.Info(i + 1, v1);
                uint i2 = fields.Info(i + 2, v2);
                uint i3 = fields.Info(i + 3, v3);
                int w0 = (int)(i0 >> 16);
                int w01 = w0 + (int)(i1 >> 16);
                int w012 = w01 + (int)(i2 >> 16);
                ulong joined = Field(v0, i0, lowMask, signShift)
                    | (Field(v1, i1, lowMask, signShift) << w0)
                    | (Field(v2, i2, lowMask, signShift) << w01)
                    | (Field(v3, i3, lowMask, signShift) << w012);
                Append(ref wp, ref pending, ref count, joined, w012 + (int)(i3 >> 16));
            }
        }
        else if (widest <= 28)
        {
            for (; i + 2 <= n; i += 2)
            {
                ulong v0 = TE.Load(src, i);
                ulong v1 = TE.Load(src, i + 1);
                uint i0 = fields.Info(i, v0);
                uint i1 = fields.Info(i + 1, v1);
                int w0 = (int)(i0 >> 16);
                Append(ref wp, ref pending, ref count, Field(v0, i0, lowMask, signShift) | (Field(v1, i1, lowMask, signShift) << w0), w0 + (int)(i1 >> 16));
            }
        }

        for (; i < n; i++)
        {
            ulong v = TE.Load(src, i);
            uint info = fields.Info(i, v);
            Append(ref wp, ref pending, ref count, Field(v, info, lowMask, signShift), (int)(info >> 16));
        }

        buffer = pending;
        bitCount = count;
        return wp;
    }

    /// <summary>The alphabet (increasing prefixes) as runs of consecutive prefixes: LEB128 gap since the previous run, LEB128 run length minus one.</summary>
    private static bool WritePrefixes(ReadOnlySpan<int> prefixes, Span<byte> destination, ref int pos)
    {
        int next = 0;
        int i = 0;
        while (i < prefixes.Length)
        {
            int run = 1;
            while (i + run < prefixes.Length && prefixes[i + run] == prefixes[i] + run)
            {
                run++;
            }

            if (!VarInt.TryWrite(destination, ref pos, (ulong)(prefixes[i] - next)) || !VarInt.TryWrite(destination, ref pos, (ulong)(run - 1)))
            {
                return false;
            }

            next = prefixes[i] + run;
            i += run;
        }

        return true;
    }

    /// <summary>Byte values as runs: LEB128 run length minus one, then the value.</summary>
    private static bool WriteRuns(ReadOnlySpan<byte> values, Span<byte> destination, ref int pos)
    {
        int i = 0;
        while (i < values.Length)
        {
            int run = 1;
            while (i + run < values.Length && values[i + run] == values[i])
            {
                run++;
            }

            if (!VarInt.TryWrite(destination, ref pos, (ulong)(run - 1)) || pos >= destination.Length)
            {
                return false;
            }

            destination[pos++] = values[i];
            i += run;
        }

        return true;
    }

    private static bool WriteTable(ReadOnlySpan<uint> counts, Span<ushort> freqs, Span<RansEncodeSymbol> symbols, Span<byte> destination, ref int pos)
    {
        FrequencyTable.Normalize(counts, freqs);
        int start = 0;
        for (int s = 0; s < freqs.Length; s++)
        {
            symbols[s] = new RansEncodeSymbol(freqs[s], start);
            start += freqs[s];
        }

        return FrequencyTable.TryWrite(freqs, destination, ref pos);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Word16(uint x) => BitConverter.IsLittleEndian ? (ushort)x : BinaryPrimitives.ReverseEndianness((ushort)x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint Advance(uint x, RansEncodeSymbol* s)
    {
        uint q = (uint)Math.BigMul(x, s->Reciprocal, out _) + (x & s->UnitMask);
        return x + s->Bias + (q * s->Complement);
    }

    /// <summary>
    /// Joint mode: one symbol per value, read straight from the source, eight states in locals. Renormalisation is
    /// arithmetic (m is 1 when a lane emits a word): every lane stores its low word, and the write position moves
    /// down only past the words that were emitted, so no lane waits on a branch. <paramref name="x"/> holds the
    /// <paramref name="lanes"/> initial states (each carrying its stashed raw bytes) and ends with the final ones.
    /// </summary>
    /// <returns>Stream length (ending at <paramref name="areaEnd"/>), or -1 when the area is too small.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int EncodeJoint<TE>(byte* src, int n, byte* symbolOf, int* prefixes, int prefixShift, int prefixMask, RansEncodeSymbol* table, int alphabet, uint* x, int lanes, byte* areaStart, byte* areaEnd)
        where TE : struct, IElementAccess
    {
        byte* p = areaEnd;
        int i = n;

        // 16- and 32-bit values: whole rounds (of 32 in a wide stream, else of 8) by the prefix-indexed encoder, after
        // the values above the last multiple of the round. A wide stream takes that path everywhere (its scalar
        // reference is exact), a narrow one with AVX2 only and when it has more values than its prefix-indexed table
        // has entries (filling the table would cost more than it saves); both give the same bytes as the loop below.
        bool prefixRounds = TE.Size is 2 or 4 && (lanes == Rans.WideLanes || (PrefixRansEncoder.HasNarrowRounds && n > prefixMask));
        int roundMultiple = prefixRounds ? lanes : 8;

        // Values above the last multiple of eight (or 32) first, so the groups below start at such a multiple.
        while ((i & (roundMultiple - 1)) != 0)
        {
            i--;
            if (p - areaStart < 2)
            {
                return -1;
            }

            table[symbolOf[(int)(TE.Load(src, i) >> prefixShift) & prefixMask]].Encode(ref x[i & (lanes - 1)], ref p);
        }

        if (prefixRounds && i > 0)
        {
            p = EncodePrefixRounds(src, TE.Size, lanes, i / lanes, prefixes, prefixShift, prefixMask, table, alphabet, x, p, areaStart);
            if (p is null)
            {
                return -1;
            }

            i = 0;
        }

        while (i > 0)
        {
            if (p - areaStart < PrefixRansEncoder.NarrowRoundRoom)
            {
                return -1;
            }

            i -= 8;
            p = EncodeGroup(
                x + (i & (lanes - 1)),
                table + symbolOf[(int)(TE.Load(src, i + 0) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 1) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 2) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 3) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 4) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 5) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 6) >> prefixShift) & prefixMask],
                table + symbolOf[(int)(TE.Load(src, i + 7) >> prefixShift) & prefixMask],
                p);
        }

        return FinishStates(new ReadOnlySpan<uint>(x, lanes), p, areaStart, areaEnd);
    }

    /// <summary>
    /// Encodes eight consecutive symbols of a stream into their eight states <paramref name="xs"/> (lane order),
    /// the last first, emitting words below <paramref name="p"/> (which needs 18 bytes of room). Renormalisation is
    /// arithmetic (m is 1 when a lane emits a word): every lane stores its low word, and the write position moves down
    /// only past the words that were emitted, so no lane waits on a branch.
    /// </summary>
    /// <returns>The new write position.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe byte* EncodeGroup(
        uint* xs, RansEncodeSymbol* s0, RansEncodeSymbol* s1, RansEncodeSymbol* s2, RansEncodeSymbol* s3, RansEncodeSymbol* s4, RansEncodeSymbol* s5, RansEncodeSymbol* s6, RansEncodeSymbol* s7, byte* p)
    {
        uint x0 = xs[0], x1 = xs[1], x2 = xs[2], x3 = xs[3], x4 = xs[4], x5 = xs[5], x6 = xs[6], x7 = xs[7];
        uint m7 = (uint)(((long)x7 - (long)s7->Limit) >> 63) + 1;
        uint m6 = (uint)(((long)x6 - (long)s6->Limit) >> 63) + 1;
        uint m5 = (uint)(((long)x5 - (long)s5->Limit) >> 63) + 1;
        uint m4 = (uint)(((long)x4 - (long)s4->Limit) >> 63) + 1;
        uint m3 = (uint)(((long)x3 - (long)s3->Limit) >> 63) + 1;
        uint m2 = (uint)(((long)x2 - (long)s2->Limit) >> 63) + 1;
        uint m1 = (uint)(((long)x1 - (long)s1->Limit) >> 63) + 1;
        uint m0 = (uint)(((long)x0 - (long)s0->Limit) >> 63) + 1;
        *(ushort*)(p - 2) = Word16(x7);
        byte* p6 = p - (m7 * 2);
        *(ushort*)(p6 - 2) = Word16(x6);
        byte* p5 = p6 - (m6 * 2);
        *(ushort*)(p5 - 2) = Word16(x5);
        byte* p4 = p5 - (m5 * 2);
        *(ushort*)(p4 - 2) = Word16(x4);
        byte* p3 = p4 - (m4 * 2);
        *(ushort*)(p3 - 2) = Word16(x3);
        byte* p2 = p3 - (m3 * 2);
        *(ushort*)(p2 - 2) = Word16(x2);
        byte* p1 = p2 - (m2 * 2);
        *(ushort*)(p1 - 2) = Word16(x1);
        byte* p0 = p1 - (m1 * 2);
        *(ushort*)(p0 - 2) = Word16(x0);
        xs[7] = Advance(x7 >> (int)(m7 << 4), s7);
        xs[6] = Advance(x6 >> (int)(m6 << 4), s6);
        xs[5] = Advance(x5 >> (int)(m5 << 4), s5);
        xs[4] = Advance(x4 >> (int)(m4 << 4), s4);
        xs[3] = Advance(x3 >> (int)(m3 << 4), s3);
        xs[2] = Advance(x2 >> (int)(m2 << 4), s2);
        xs[1] = Advance(x1 >> (int)(m1 << 4), s1);
        xs[0] = Advance(x0 >> (int)(m0 << 4), s0);
        return p0 - (m0 * 2);
    }

    /// <summary>Prefix-indexed parameters from the symbol tables, then <see cref="PrefixRansEncoder"/>'s rounds for <paramref name="lanes"/> states.</summary>
    private static unsafe byte* EncodePrefixRounds(byte* src, int valueSize, int lanes, int rounds, int* prefixes, int prefixShift, int prefixMask, RansEncodeSymbol* table, int alphabet, uint* states, byte* p, byte* areaStart)
    {
        ulong[] buffer = ArrayPool<ulong>.Shared.Rent(prefixMask + 1 + alphabet);
        try
        {
            fixed (ulong* b = buffer)
            {
                ulong* entries = b;
                ulong* entryOf = b + prefixMask + 1;
                for (int a = 0; a < alphabet; a++)
                {
                    entryOf[a] = PrefixRansEncoder.Entry(table[a]);
                }

                // Prefixes outside the alphabet never occur in the source; give them symbol 0's harmless entry.
                new Span<ulong>(entries, prefixMask + 1).Fill(entryOf[0]);
                for (int a = 0; a < alphabet; a++)
                {
                    if (table[a].IsCodable)
                    {
                        entries[prefixes[a]] = entryOf[a];
                    }
                }

                return (lanes, valueSize) switch
                {
                    (Rans.WideLanes, 2) => PrefixRansEncoder.EncodeRounds((ushort*)src, rounds, prefixShift, prefixMask, entries, states, p, areaStart),
                    (Rans.WideLanes, _) => PrefixRansEncoder.EncodeRounds((uint*)src, rounds, prefixShift, prefixMask, entries, states, p, areaStart),
                    (_, 2) => PrefixRansEncoder.EncodeNarrowRoundsAvx2((ushort*)src, rounds, prefixShift, prefixMask, entries, states, p, areaStart),
                    _ => PrefixRansEncoder.EncodeNarrowRoundsAvx2((uint*)src, rounds, prefixShift, prefixMask, entries, states, p, areaStart),
                };
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(buffer);
        }
    }

    private static unsafe int FinishStates(ReadOnlySpan<uint> states, byte* p, byte* areaStart, byte* areaEnd)
    {
        int bytes = states.Length * 4;
        if (p - areaStart < bytes)
        {
            return -1;
        }

        p -= bytes;
        Rans.WriteStates(states, new Span<byte>(p, bytes));
        return (int)(areaEnd - p);
    }

    /// <summary>
    /// Context modes: the value's symbol in its context (its row's class, else the previous exponent's bucket), then the
    /// optional mantissa symbol. Each symbol's index in the tables is listed first (<paramref name="tableA"/>, whose array
    /// <paramref name="tableB"/> continues: below 2048 + 256 entries, at most 8 contexts of 256 symbols and 16 second
    /// tables of 16). The symbols above the last whole round are coded one by one, and the rounds below by
    /// <see cref="PrefixRansEncoder"/> (whose "prefix" is then the listed index itself) in a wide stream or with AVX2,
    /// else eight lanes at a time like the joint mode's loop. Both give the same bytes. Not marked for aggressive
    /// optimisation: the tiered, profile-guided compile of it made row-class chunks' encode 5–7% faster.
    /// </summary>
    private static unsafe int EncodeWithContexts(
        byte* symA, byte* symB, int n, RansEncodeSymbol* tableA, RansEncodeSymbol* tableB, int tableEntries, byte* contextOf, byte* secondOf, byte* valueContext, int alphabet, int secondCount, int firstContext, bool hasSecond, uint* states, int lanes, byte* areaStart, byte* areaEnd)
    {
        int count = hasSecond ? 2 * n : n;
        bool rounds = lanes == Rans.WideLanes || PrefixRansEncoder.HasNarrowRounds;
        ushort[] listedArray = ArrayPool<ushort>.Shared.Rent(Math.Max(1, count));
        ulong[] entryArray = ArrayPool<ulong>.Shared.Rent(rounds ? tableEntries : 1);
        try
        {
            fixed (ushort* listed = listedArray)
            fixed (ulong* entries = entryArray)
            {
                // A loop per case, so neither tests the case per value.
                int secondBase = (int)(tableB - tableA);
                int context = firstContext;
                if (hasSecond)
                {
                    for (int i = 0; i < n; i++)
                    {
                        int a = symA[i];
                        context = valueContext != null ? valueContext[i] : context;
                        listed[2 * i] = (ushort)((context * alphabet) + a);
                        listed[(2 * i) + 1] = (ushort)(secondBase + (secondOf[a] * secondCount) + symB[i]);
                        context = contextOf[a];
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        int a = symA[i];
                        context = valueContext != null ? valueContext[i] : context;
                        listed[i] = (ushort)((context * alphabet) + a);
                        context = contextOf[a];
                    }
                }

                byte* p = areaEnd;
                int j = count;
                int multiple = rounds ? lanes : 8;
                while ((j & (multiple - 1)) != 0)
                {
                    j--;
                    if (p - areaStart < 2)
                    {
                        return -1;
                    }

                    tableA[listed[j]].Encode(ref states[j & (lanes - 1)], ref p);
                }

                if (rounds && j > 0)
                {
                    // Entries of symbols a context never codes are never read; zero keeps them out of the reciprocal.
                    for (int k = 0; k < tableEntries; k++)
                    {
                        entries[k] = tableA[k].IsCodable ? PrefixRansEncoder.Entry(tableA[k]) : 0;
                    }

                    p = lanes == Rans.WideLanes
                        ? PrefixRansEncoder.EncodeRounds(listed, j / lanes, 0, ushort.MaxValue, entries, states, p, areaStart)
                        : PrefixRansEncoder.EncodeNarrowRoundsAvx2(listed, j / lanes, 0, ushort.MaxValue, entries, states, p, areaStart);
                    if (p is null)
                    {
                        return -1;
                    }

                    j = 0;
                }

                while (j > 0)
                {
                    if (p - areaStart < PrefixRansEncoder.NarrowRoundRoom)
                    {
                        return -1;
                    }

                    j -= 8;
                    ushort* o = listed + j;
                    p = EncodeGroup(
                        states + (j & (lanes - 1)),
                        tableA + o[0],
                        tableA + o[1],
                        tableA + o[2],
                        tableA + o[3],
                        tableA + o[4],
                        tableA + o[5],
                        tableA + o[6],
                        tableA + o[7],
                        p);
                }

                return FinishStates(new ReadOnlySpan<uint>(states, lanes), p, areaStart, areaEnd);
            }
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(listedArray);
            ArrayPool<ulong>.Shared.Return(entryArray);
        }
    }
}
