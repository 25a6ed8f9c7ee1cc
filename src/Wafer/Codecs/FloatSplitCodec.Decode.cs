using System.Buffers.Binary;
using System.Buffers;
using System.Runtime.CompilerServices;
using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;
using Wafer.Codecs.Kernels;

namespace Wafer.Codecs;

internal sealed partial class FloatSplitCodec
{
    /// <summary>Per symbol: the value bits it fixes, how many raw bits follow and where the low ones go.</summary>
    private struct SymbolInfo
    {
        public ulong Prefix;
        public int RawBits;
        public int Dropped;
        public int SignRaw;
        public ulong Mask;
    }

    private static unsafe void DecodeCore<TE>(ReadOnlySpan<byte> source, FloatLayout layout, Span<byte> destination)
        where TE : struct, IElementAccess
    {
        int n = destination.Length / layout.Bytes;
        int m = layout.MantissaBits;
        if (source.Length < 1 || source[0] != Version)
        {
            throw new WaferDataException(source.Length < 1 ? "float-split payload is empty" : $"float-split payload has unknown version {source[0]}");
        }

        if (n == 0)
        {
            if (source.Length != 1)
            {
                throw new WaferDataException("float-split payload for an empty chunk carries data");
            }

            return;
        }

        int pos = 1;
        int declared = VarInt.ReadInt(source, ref pos, int.MaxValue, "float-split value count");
        if (declared != n)
        {
            throw new WaferDataException($"float-split payload holds {declared} values, the chunk has {n}");
        }

        if (source.Length - pos < 3)
        {
            throw new WaferDataException($"float-split payload is {source.Length} bytes, shorter than its header");
        }

        int mode = source[pos++];
        int k1 = source[pos++];
        int k2 = source[pos++];
        if (mode > ModeRowClass)
        {
            throw new WaferDataException($"float-split payload has unknown context mode {mode}");
        }

        if (k1 > 8 || k2 > 8 || k1 + k2 > m)
        {
            throw new WaferDataException($"float-split coded mantissa bits (joint {k1}, second {k2}) exceed the {m} mantissa bits");
        }

        int prefixBits = layout.ExponentBits + k1;
        int secondShift = m - k1 - k2;
        int alphabet = VarInt.ReadInt(source, ref pos, MaxAlphabet, "float-split alphabet size");
        if (alphabet == 0)
        {
            throw new WaferDataException("float-split alphabet is empty");
        }

        Span<SymbolInfo> info = stackalloc SymbolInfo[MaxAlphabet];
        Span<int> prefixExponent = stackalloc int[MaxAlphabet];
        int found = 0;
        int next = 0;
        while (found < alphabet)
        {
            int gap = VarInt.ReadInt(source, ref pos, (1 << prefixBits) - next, "float-split prefix gap");
            int run = VarInt.ReadInt(source, ref pos, alphabet - found - 1, "float-split prefix run") + 1;
            int prefix = next + gap;
            if (prefix + run > 1 << prefixBits)
            {
                throw new WaferDataException($"float-split prefixes run past {1 << prefixBits}, the {prefixBits}-bit prefix space");
            }

            for (int r = 0; r < run; r++, prefix++)
            {
                info[found].Prefix = (ulong)prefix << (m - k1);
                prefixExponent[found++] = prefix >> k1;
            }

            next = prefix;
        }

        for (int a = 0; a < alphabet;)
        {
            int run = VarInt.ReadInt(source, ref pos, alphabet - a - 1, "float-split attribute run") + 1;
            if (pos >= source.Length)
            {
                throw new WaferDataException("float-split payload ends inside its symbol attributes");
            }

            int attribute = source[pos++];
            int d = attribute & 63;
            int signMode = attribute >> 6;
            if (d > secondShift || signMode > SignNegative)
            {
                throw new WaferDataException($"float-split symbol attribute {attribute} is invalid (at most {secondShift} dropped bits, sign mode 0..2)");
            }

            for (int e = a + run; a < e; a++)
            {
                info[a].Dropped = d;
                info[a].SignRaw = signMode == SignRaw ? 1 : 0;
                info[a].RawBits = info[a].SignRaw + secondShift - d;
                info[a].Mask = (1UL << info[a].RawBits) - 1;
                info[a].Prefix |= signMode == SignNegative ? 1UL << (layout.Bits - 1) : 0;
            }
        }

        int widest = 1;
        for (int a = 0; a < alphabet; a++)
        {
            widest = Math.Max(widest, info[a].RawBits);
        }

        int contexts = 1;
        int center = 0;
        if (mode == ModePreviousExponent)
        {
            contexts = ExponentContexts;
            center = VarInt.ReadInt(source, ref pos, (1 << layout.ExponentBits) - 1, "float-split context centre");
        }

        int rowLength = 0;
        int phase = 0;
        byte[]? rowClass = null;
        if (mode == ModeRowClass)
        {
            if (k2 != 0)
            {
                throw new WaferDataException("float-split row-class payload declares a second mantissa symbol");
            }

            rowLength = VarInt.ReadInt(source, ref pos, int.MaxValue, "float-split row length");
            phase = VarInt.ReadInt(source, ref pos, int.MaxValue, "float-split first column");
            contexts = VarInt.ReadInt(source, ref pos, MaxRowClasses, "float-split row classes");
            if (rowLength < 2 || phase >= rowLength || contexts == 0)
            {
                throw new WaferDataException($"float-split row geometry is invalid (row length {rowLength}, first column {phase}, {contexts} classes)");
            }

            int rows = (int)(((long)phase + n + rowLength - 1) / rowLength);
            rowClass = ArrayPool<byte>.Shared.Rent(rows);
            ByteStreamCoder.Decode(source, ref pos, rowClass.AsSpan(0, rows), "float-split row classes");
            if (rowClass.AsSpan(0, rows).IndexOfAnyInRange((byte)contexts, byte.MaxValue) >= 0)
            {
                ArrayPool<byte>.Shared.Return(rowClass);
                throw new WaferDataException($"float-split row class out of range (at most {contexts} classes)");
            }
        }

        int secondCount = 1 << k2;
        ushort[] freqArray = ArrayPool<ushort>.Shared.Rent(Math.Max(alphabet, secondCount));
        uint[] tableArray = ArrayPool<uint>.Shared.Rent((contexts + MaxSecondContexts) * Rans.Total);
        try
        {
            Span<uint> tables = tableArray.AsSpan(0, (contexts + MaxSecondContexts) * Rans.Total);
            for (int c = 0; c < contexts; c++)
            {
                Span<ushort> f = freqArray.AsSpan(0, alphabet);
                FrequencyTable.Read(source, ref pos, f, "float-split exponent table");
                FrequencyTable.BuildDecodeTable(f, tables.Slice(c * Rans.Total, Rans.Total));
            }

            Span<byte> contextOf = stackalloc byte[MaxAlphabet];
            for (int a = 0; a < alphabet; a++)
            {
                contextOf[a] = mode == ModePreviousExponent ? (byte)Bucket(prefixExponent[a], center) : (byte)0;
            }

            Span<byte> secondOf = stackalloc byte[MaxAlphabet];
            secondOf.Clear();
            if (k2 > 0)
            {
                int secondContexts = VarInt.ReadInt(source, ref pos, MaxSecondContexts, "float-split second-symbol table count");
                if (secondContexts == 0 || source.Length - pos < alphabet)
                {
                    throw new WaferDataException("float-split second-symbol tables are missing");
                }

                for (int a = 0; a < alphabet; a++)
                {
                    byte s = source[pos++];
                    if (s >= secondContexts)
                    {
                        throw new WaferDataException($"float-split symbol {a} names second-symbol table {s} of {secondContexts}");
                    }

                    secondOf[a] = s;
                }

                for (int c = 0; c < secondContexts; c++)
                {
                    Span<ushort> f = freqArray.AsSpan(0, secondCount);
                    FrequencyTable.Read(source, ref pos, f, "float-split mantissa table");
                    FrequencyTable.BuildDecodeTable(f, tables.Slice((contexts + c) * Rans.Total, Rans.Total));
                }
            }

            int rawLength = VarInt.ReadLength(source, ref pos, "float-split raw stream length");
            ReadOnlySpan<byte> rawStream = source.Slice(pos, rawLength);
            pos += rawLength;
            ReadOnlySpan<byte> stream = source[pos..];
            Span<uint> x = stackalloc uint[LanesFor(mode, k2, n)];
            Rans.ReadStates(stream, x);
            int end;
            long rawBits;
            fixed (byte* dst = destination)
            fixed (SymbolInfo* si = info)
            {
                (end, rawBits) = mode == ModeJoint && k2 == 0
                    ? DecodeJoint<TE>(stream, tables[..Rans.Total], x, si, alphabet, widest, layout.Bits - 1, rawStream, dst, n)
                    : mode == ModeRowClass
                    ? DecodeRowClasses<TE>(stream, tables, x, si, alphabet, rowClass, rowLength, phase, widest, layout.Bits - 1, rawStream, dst, n)
                    : DecodeWithContexts<TE>(stream, tables, x, si, contextOf, secondOf, contexts, k2, secondShift, mode == ModePreviousExponent ? Bucket(center, center) : 0, layout.Bits - 1, widest, rawStream, dst, n);
            }

            Rans.CheckFinal(x, end, stream.Length);
            if ((rawBits + 7) / 8 != rawStream.Length)
            {
                throw new WaferDataException($"float-split raw stream is {rawStream.Length} bytes but its values use {rawBits} bits");
            }
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(freqArray);
            ArrayPool<uint>.Shared.Return(tableArray);
            if (rowClass is not null)
            {
                ArrayPool<byte>.Shared.Return(rowClass);
            }
        }
    }

    /// <summary>Raw field of <paramref name="count"/> bits at bit <paramref name="position"/>, zero bits past the end of the stream.</summary>
    private static ulong ReadBitsChecked(ReadOnlySpan<byte> raw, long position, int count)
    {
        ulong value = 0;
        long first = position >> 3;
        for (int i = 0; i < 8; i++)
        {
            long at = first + i;
            value |= at < raw.Length ? (ulong)raw[(int)at] << (8 * i) : 0;
        }

        return (value >> (int)(position & 7)) & ((1UL << count) - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe ulong Assemble(SymbolInfo* s, ulong r, int signShift) =>
        s->Prefix | ((r >> s->SignRaw) << s->Dropped) | ((r & (ulong)s->SignRaw) << signShift);

    private const uint SlotMask = Rans.Total - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint Word(byte* p)
    {
        ushort w = *(ushort*)p;
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe ulong Load64(byte* p)
    {
        ulong w = *(ulong*)p;
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }

    /// <summary>
    /// Hot loop for the joint mode. Each block runs two tight passes rather than one long one: the rANS pass
    /// (<see cref="InterleavedRansDecoder"/>: all states in registers, vectorised for 32-state streams), then the
    /// assembly pass, which for a uniform raw width of at most 8 bits takes eight values' fields per load
    /// (<see cref="FieldPacker.Assemble16"/> for 16-bit elements) and otherwise keeps a bit reader in registers.
    /// The final block's fields are read from a copy of the raw stream's tail followed by the bytes the final states
    /// kept (<see cref="Stash"/>). Returns the bits read from <paramref name="raw"/> itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (int End, long RawBits) DecodeJoint<TE>(ReadOnlySpan<byte> stream, ReadOnlySpan<uint> table, scoped Span<uint> x, SymbolInfo* info, int alphabet, int widest, int signShift, ReadOnlySpan<byte> raw, byte* dst, int n)
        where TE : struct, IElementAccess
    {
        byte* symbols = stackalloc byte[JointBlock];

        // When every symbol has the same raw field of at most 8 bits (the usual BF16 chunk), eight values' fields
        // fill exactly `width` bytes: one load per eight values, and each value is two table lookups and an OR.
        int width = UniformWidth(info, alphabet);

        // Every symbol's field wider than 8 bits (F32 and F64 chunks) but alike: positions are multiples of its width.
        int wideWidth = width == 0 && info->RawBits is > 8 and <= 57 && UniformAttributes(info, alphabet) ? info->RawBits : 0;
        ulong* prefixOf = stackalloc ulong[MaxAlphabet];
        uint* prefixOf16 = stackalloc uint[MaxAlphabet];
        byte* prefixBytes = stackalloc byte[FieldPacker.PrefixBytesLength];
        ulong* rawPart = stackalloc ulong[256];
        for (int a = 0; a < alphabet && (width | wideWidth) != 0; a++)
        {
            prefixOf[a] = info[a].Prefix;
        }

        if (width != 0)
        {
            for (int a = 0; a < alphabet; a++)
            {
                prefixOf16[a] = (uint)info[a].Prefix;
            }

            FieldPacker.SplitPrefixes(prefixOf16, alphabet, prefixBytes);

            for (int r = 0; r < 1 << width; r++)
            {
                rawPart[r] = Assemble(info, (ulong)r, signShift) & ~info->Prefix;
            }
        }

        ulong fieldMask = (1UL << width) - 1;
        nint p = x.Length * 4;
        long bitPosition = 0;

        // The final block's raw tail: its fields' bytes, the stash, and zeros for the loads that look ahead.
        int tailCapacity = (int)(((long)JointBlock * widest / 8) + 1 + (2 * Rans.WideLanes) + 16);
        byte* tail = stackalloc byte[tailCapacity];
        long tailStart = 0;
        int stashed = 0;
        fixed (byte* s = stream)
        fixed (uint* t = table)
        fixed (byte* rs0 = raw)
        {
            byte* rs = rs0;
            nint safeEnd = stream.Length - InterleavedRansDecoder.Lookahead;
            for (int b0 = 0; b0 < n; b0 += JointBlock)
            {
                int count = Math.Min(JointBlock, n - b0);
                int j = InterleavedRansDecoder.Decode(x, t, s, ref p, safeEnd, symbols, count);
                if (j < count)
                {
                    int q = (int)p;
                    for (; j < count; j++)
                    {
                        symbols[j] = (byte)RansStep.Checked(ref x[(b0 + j) & (x.Length - 1)], table, stream, ref q);
                    }

                    p = q;
                }

                if (b0 + count == n)
                {
                    // The states are final: the raw stream's last bytes come out of them.
                    long fieldBits = (long)count * width;
                    for (int v = 0; width == 0 && v < count; v++)
                    {
                        fieldBits += info[symbols[v]].RawBits;
                    }

                    stashed = StashLength(x.Length, bitPosition, bitPosition + fieldBits);
                    tailStart = bitPosition >> 3;
                    if (tailStart > raw.Length || raw.Length - tailStart + stashed > tailCapacity - 16)
                    {
                        throw new WaferDataException($"float-split raw stream of {raw.Length} bytes does not fit its values' raw fields");
                    }

                    int kept = raw.Length - (int)tailStart;
                    new Span<byte>(tail, tailCapacity).Clear();
                    raw[(int)tailStart..].CopyTo(new Span<byte>(tail, kept));
                    Unstash(x, new Span<byte>(tail + kept, stashed));
                    raw = new ReadOnlySpan<byte>(tail, kept + stashed);
                    rs = tail;
                    bitPosition -= tailStart * 8;
                }

                byte* d = dst + ((nint)b0 * TE.Size);
                int k = 0;
                if (width != 0)
                {
                    // Block starts are multiples of eight values, so the position is on a byte boundary here.
                    long bytePosition = bitPosition >> 3;
                    long lastLoad = raw.Length - 8;
                    if (TE.Size == 2 && bytePosition <= lastLoad)
                    {
                        int groups = (int)Math.Min(count / 8, ((lastLoad - bytePosition) / width) + 1);
                        FieldPacker.Assemble16(symbols, groups, rs + bytePosition, width, prefixOf16, prefixBytes, alphabet, info->Dropped, info->SignRaw != 0, (ushort*)d);
                        k = groups * 8;
                        bytePosition += (long)groups * width;
                    }

                    for (; k + 8 <= count && bytePosition <= lastLoad; k += 8)
                    {
                        ulong fields = Load64(rs + bytePosition);
                        bytePosition += width;
                        byte* sk = symbols + k;
                        for (int v = 0; v < 8; v++)
                        {
                            TE.Store(d, k + v, prefixOf[sk[v]] | rawPart[fields & fieldMask]);
                            fields >>= width;
                        }
                    }

                    bitPosition = bytePosition << 3;
                }

                bitPosition = AssembleRest<TE>(symbols, k, count, info, prefixOf, wideWidth, widest, signShift, raw, rs, bitPosition, d);
            }
        }

        return ((int)p, bitPosition + (tailStart * 8) - (stashed * 8L));
    }

    /// <summary>
    /// Values <paramref name="k"/> to <paramref name="count"/> of a block from their symbols and the raw fields from bit
    /// <paramref name="bitPosition"/> on: one unaligned load per value while 8 bytes remain after the field's first
    /// byte (the check is hoisted: the next (limit - position) / widest + 1 fields surely start inside that range),
    /// then checked reads. Positions are a running sum, so the loads of consecutive values are independent.
    /// <paramref name="wideWidth"/> is the field width every symbol shares (prefixes in <paramref name="prefixOf"/>), or 0.
    /// </summary>
    /// <returns>The bit position after the last field.</returns>
    private static unsafe long AssembleRest<TE>(byte* symbols, int k, int count, SymbolInfo* info, ulong* prefixOf, int wideWidth, int widest, int signShift, ReadOnlySpan<byte> raw, byte* rs, long bitPosition, byte* d)
        where TE : struct, IElementAccess
    {
        long fastLimit = ((long)raw.Length - 8) * 8;
        while (k < count)
        {
            long sure = bitPosition <= fastLimit ? ((fastLimit - bitPosition) / widest) + 1 : 0;
            if (sure == 0)
            {
                SymbolInfo* si = info + symbols[k];
                ulong r = ReadBitsChecked(raw, bitPosition, si->RawBits);
                bitPosition += si->RawBits;
                TE.Store(d, k, Assemble(si, r, signShift));
                k++;
                continue;
            }

            int end = (int)Math.Min(count, k + sure);
            bitPosition = wideWidth != 0
                ? AssembleUniformFields<TE>(symbols, k, end, prefixOf, wideWidth, info->Dropped, info->SignRaw, signShift, rs, bitPosition, d)
                : AssembleFields<TE>(symbols, k, end, info, rs, bitPosition, signShift, d);
            k = end;
        }

        return bitPosition;
    }

    /// <summary>
    /// The row-class mode without a second symbol. Every value's table is its row's class, known before any symbol is
    /// decoded, so no value waits on the one before it: each block runs the rANS pass over all its values first
    /// (<see cref="InterleavedRansDecoder.DecodeContexts"/>, vectorised for 32-state streams), then the assembly
    /// pass, as the joint mode does. The general context loop decodes one value at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (int End, long RawBits) DecodeRowClasses<TE>(ReadOnlySpan<byte> stream, ReadOnlySpan<uint> tables, scoped Span<uint> x, SymbolInfo* info, int alphabet, ReadOnlySpan<byte> rowClass, int rowLength, int phase, int widest, int signShift, ReadOnlySpan<byte> raw, byte* dst, int n)
        where TE : struct, IElementAccess
    {
        byte* symbols = stackalloc byte[JointBlock];
        byte* contexts = stackalloc byte[JointBlock];
        int wideWidth = info->RawBits is > 0 and <= 57 && UniformAttributes(info, alphabet) ? info->RawBits : 0;
        ulong* prefixOf = stackalloc ulong[MaxAlphabet];
        for (int a = 0; a < alphabet && wideWidth != 0; a++)
        {
            prefixOf[a] = info[a].Prefix;
        }

        int laneMask = x.Length - 1;
        nint p = x.Length * 4;
        long bitPosition = 0;
        fixed (byte* s = stream)
        fixed (uint* t = tables)
        fixed (byte* rs = raw)
        {
            nint safeEnd = stream.Length - InterleavedRansDecoder.Lookahead;
            for (int b0 = 0; b0 < n; b0 += JointBlock)
            {
                // The block's contexts: value i lies in row (phase + i) / rowLength.
                int count = Math.Min(JointBlock, n - b0);
                long at = (long)phase + b0;
                int row = (int)(at / rowLength);
                int column = (int)(at % rowLength);
                for (int k = 0; k < count; row++, column = 0)
                {
                    int run = Math.Min(count - k, rowLength - column);
                    new Span<byte>(contexts + k, run).Fill(rowClass[row]);
                    k += run;
                }

                // Blocks start at multiples of the lane count, so value b0 + j is on lane j.
                int j = InterleavedRansDecoder.DecodeContexts(x, t, contexts, s, ref p, safeEnd, symbols, count);
                if (j < count)
                {
                    int q = (int)p;
                    for (; j < count; j++)
                    {
                        symbols[j] = (byte)RansStep.Checked(ref x[j & laneMask], tables.Slice(contexts[j] * Rans.Total, Rans.Total), stream, ref q);
                    }

                    p = q;
                }

                bitPosition = AssembleRest<TE>(symbols, 0, count, info, prefixOf, wideWidth, widest, signShift, raw, rs, bitPosition, dst + ((nint)b0 * TE.Size));
            }
        }

        return ((int)p, bitPosition);
    }

    /// <summary>
    /// Values <paramref name="k"/> to <paramref name="end"/> of a block from their symbols and the raw fields from bit
    /// <paramref name="bitPosition"/> on, all of whose 8-byte loads lie inside the raw stream. A method of its own so
    /// that its few variables stay in registers: inlined into the block loop, the JIT kept them on the stack.
    /// </summary>
    /// <returns>The bit position after the last field.</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe long AssembleFields<TE>(byte* symbols, int k, int end, SymbolInfo* info, byte* rs, long bitPosition, int signShift, byte* d)
        where TE : struct, IElementAccess
    {
        for (; k < end; k++)
        {
            SymbolInfo* si = info + symbols[k];
            ulong r = (Load64(rs + (bitPosition >> 3)) >> (int)(bitPosition & 7)) & si->Mask;
            bitPosition += si->RawBits;
            TE.Store(d, k, Assemble(si, r, signShift));
        }

        return bitPosition;
    }

    /// <summary>
    /// <see cref="AssembleFields{TE}"/> when every symbol has the same field of <paramref name="width"/> bits (at most
    /// 57): only the prefix differs, by symbol.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe long AssembleUniformFields<TE>(byte* symbols, int k, int end, ulong* prefixOf, int width, int dropped, int signRaw, int signShift, byte* rs, long bitPosition, byte* d)
        where TE : struct, IElementAccess
    {
        ulong mask = (1UL << width) - 1;
        ulong sign = (ulong)signRaw;
        for (; k < end; k++)
        {
            ulong r = (Load64(rs + (bitPosition >> 3)) >> (int)(bitPosition & 7)) & mask;
            bitPosition += width;
            TE.Store(d, k, prefixOf[symbols[k]] | ((r >> signRaw) << dropped) | ((r & sign) << signShift));
        }

        return bitPosition;
    }

    /// <summary>Whether every symbol has the same raw field: width, dropped bits and sign handling.</summary>
    private static unsafe bool UniformAttributes(SymbolInfo* info, int alphabet)
    {
        for (int a = 1; a < alphabet; a++)
        {
            if (info[a].RawBits != info->RawBits || info[a].Dropped != info->Dropped || info[a].SignRaw != info->SignRaw)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The raw field width shared by every symbol (same dropped bits and sign handling), or 0 when they differ or it exceeds 8 bits.</summary>
    private static unsafe int UniformWidth(SymbolInfo* info, int alphabet) =>
        info->RawBits is > 0 and <= 8 && UniformAttributes(info, alphabet) ? info->RawBits : 0;

    /// <summary>The loop of the modes whose values wait on the one before: the symbol in its context (the previous exponent's bucket, or the one context of the joint mode), then an optional mantissa symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (int End, long RawBits) DecodeWithContexts<TE>(
        ReadOnlySpan<byte> stream,
        ReadOnlySpan<uint> tables,
        scoped Span<uint> x,
        SymbolInfo* info,
        scoped ReadOnlySpan<byte> contextOf,
        scoped ReadOnlySpan<byte> secondOf,
        int contexts,
        int k2,
        int secondShift,
        int firstContext,
        int signShift,
        int widest,
        ReadOnlySpan<byte> raw,
        byte* dst,
        int n)
        where TE : struct, IElementAccess
    {
        var run = new ContextRun { Lane = 0, Context = firstContext, BitPosition = 0, Position = x.Length * 4 };
        long fastLimit = ((long)raw.Length - 8) * 8;
        int laneMask = x.Length - 1;
        fixed (byte* s = stream)
        fixed (uint* t = tables)
        fixed (byte* rs = raw)
        fixed (byte* co = contextOf)
        fixed (byte* so = secondOf)
        fixed (uint* states = x)
        {
            uint* second = t + ((nint)contexts * Rans.Total);
            int i = 0;
            while (i < n)
            {
                // Values whose words (at most two, 4 bytes) and raw fields surely lie inside their streams run unchecked.
                long byStream = Math.Max(0, (stream.Length - 4 - run.Position) / 4);
                long byRaw = run.BitPosition <= fastLimit ? ((fastLimit - run.BitPosition) / widest) + 1 : 0;
                int end = (int)Math.Min(n, i + Math.Min(byStream, byRaw));
                if (end > i)
                {
                    DecodeContextRun<TE>(ref run, i, end, states, laneMask, t, second, s, rs, info, co, so, k2 > 0, secondShift, signShift, dst);
                    i = end;
                    continue;
                }

                // Near the ends of the streams: one value with every read checked.
                int q = (int)run.Position;
                uint a = RansStep.Checked(ref x[run.Lane], tables.Slice(run.Context * Rans.Total, Rans.Total), stream, ref q);
                run.Lane = (run.Lane + 1) & laneMask;
                uint b = 0;
                if (k2 > 0)
                {
                    b = RansStep.Checked(ref x[run.Lane], tables.Slice((contexts + so[a]) * Rans.Total, Rans.Total), stream, ref q);
                    run.Lane = (run.Lane + 1) & laneMask;
                }

                run.Position = q;
                SymbolInfo* si = info + a;
                ulong r = run.BitPosition <= fastLimit
                    ? (Load64(rs + (run.BitPosition >> 3)) >> (int)(run.BitPosition & 7)) & si->Mask
                    : ReadBitsChecked(raw, run.BitPosition, si->RawBits);
                run.BitPosition += si->RawBits;
                TE.Store(dst, i, Assemble(si, r, signShift) | ((ulong)b << secondShift));
                run.Context = co[a];
                i++;
            }
        }

        return ((int)run.Position, run.BitPosition);
    }

    /// <summary>The context loop's state between runs.</summary>
    private struct ContextRun
    {
        public int Lane;
        public int Context;
        public long BitPosition;
        public nint Position;
    }

    /// <summary>
    /// Values <paramref name="i"/> to <paramref name="end"/> of the context loop, none of whose reads can pass the end
    /// of its stream. A method of its own so that the loop's state stays in registers: inlined into the loop with its
    /// checked steps, the JIT kept it on the stack.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DecodeContextRun<TE>(
        ref ContextRun run, int i, int end, uint* x, int laneMask, uint* tables, uint* second, byte* s, byte* rs, SymbolInfo* info, byte* contextOf, byte* secondOf, bool hasSecond, int secondShift, int signShift, byte* dst)
        where TE : struct, IElementAccess
    {
        int lane = run.Lane;
        int ctx = run.Context;
        long bitPosition = run.BitPosition;
        nint p = run.Position;
        for (; i < end; i++)
        {
            uint a = StepUnchecked(ref x[lane], tables + ((nint)ctx * Rans.Total), s, ref p);
            lane = (lane + 1) & laneMask;
            uint b = 0;
            if (hasSecond)
            {
                b = StepUnchecked(ref x[lane], second + ((nint)secondOf[a] * Rans.Total), s, ref p);
                lane = (lane + 1) & laneMask;
            }

            SymbolInfo* si = info + a;
            ulong r = (Load64(rs + (bitPosition >> 3)) >> (int)(bitPosition & 7)) & si->Mask;
            bitPosition += si->RawBits;
            TE.Store(dst, i, Assemble(si, r, signShift) | ((ulong)b << secondShift));
            ctx = contextOf[a];
        }

        run.Lane = lane;
        run.Context = ctx;
        run.BitPosition = bitPosition;
        run.Position = p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint StepUnchecked(ref uint x, uint* table, byte* stream, ref nint p)
    {
        uint entry = table[x & SlotMask];
        uint y = Rans.Advance(x, entry);
        uint r = ((y >> 16) - 1) >> 31;
        x = (y << (int)(r << 4)) | (Word(stream + p) & (0u - r));
        p += (nint)(r << 1);
        return entry & 0xFF;
    }
}
