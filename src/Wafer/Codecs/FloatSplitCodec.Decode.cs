using System.Buffers;
using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;

namespace Wafer.Codecs;

internal sealed partial class FloatSplitCodec
{
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

        if (source.Length < 6)
        {
            throw new WaferDataException($"float-split payload is {source.Length} bytes, shorter than its header");
        }

        int mode = source[1];
        int dropped = source[2];
        int k1 = source[3];
        int k2 = source[4];
        if (mode > ModePreviousExponent)
        {
            throw new WaferDataException($"float-split payload has unknown context mode {mode}");
        }

        if (k1 > 8 || k2 > 8 || dropped + k1 + k2 > m)
        {
            throw new WaferDataException($"float-split fields (dropped {dropped}, joint {k1}, second {k2}) exceed the {m} mantissa bits");
        }

        int pos = 5;
        int prefixBits = layout.ExponentBits + k1;
        int alphabet = VarInt.ReadInt(source, ref pos, MaxAlphabet, "float-split alphabet size");
        if (alphabet == 0)
        {
            throw new WaferDataException("float-split alphabet is empty");
        }

        Span<ulong> prefixValue = stackalloc ulong[MaxAlphabet];
        Span<int> prefixExponent = stackalloc int[MaxAlphabet];
        long prefix = -1;
        for (int a = 0; a < alphabet; a++)
        {
            long delta = (long)VarInt.Read(source, ref pos, 1UL << prefixBits, "float-split prefix");
            prefix = a == 0 ? delta : prefix + delta + 1;
            if (prefix >= 1L << prefixBits)
            {
                throw new WaferDataException($"float-split prefix {prefix} does not fit {prefixBits} bits");
            }

            prefixValue[a] = (ulong)prefix << (m - k1);
            prefixExponent[a] = (int)(prefix >> k1);
        }

        int contexts = 1;
        int center = 0;
        if (mode == ModePreviousExponent)
        {
            contexts = ExponentContexts;
            center = VarInt.ReadInt(source, ref pos, (1 << layout.ExponentBits) - 1, "float-split context centre");
        }

        int secondCount = 1 << k2;
        int rawBits = 1 + m - dropped - k1 - k2;
        long rawBytes = (((long)n * rawBits) + 7) / 8;

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

            int streamLength = VarInt.ReadInt(source, ref pos, source.Length - pos, "float-split rANS stream length");
            ReadOnlySpan<byte> stream = source.Slice(pos, streamLength);
            pos += streamLength;
            if (source.Length - pos != rawBytes)
            {
                throw new WaferDataException($"float-split raw stream is {source.Length - pos} bytes, expected {rawBytes} for {n} values of {rawBits} bits");
            }

            var fields = new Fields(layout, dropped, rawBits);
            var raw = new BitReader(source[pos..]);
            Span<uint> x = stackalloc uint[Rans.Lanes];
            Rans.ReadStates(stream, x);
            int end;
            fixed (byte* dst = destination)
            fixed (ulong* pv = prefixValue)
            {
                end = mode == ModeJoint && k2 == 0
                    ? DecodeJoint<TE>(stream, tables[..Rans.Total], x, pv, fields, ref raw, dst, n)
                    : DecodeWithContexts<TE>(stream, tables, x, pv, contextOf, secondOf, contexts, k2, m - k1 - k2, mode == ModePreviousExponent ? Bucket(center, center) : 0, fields, ref raw, dst, n);
            }

            Rans.CheckFinal(x, end, stream.Length);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(freqArray);
            ArrayPool<uint>.Shared.Return(tableArray);
        }
    }

    /// <summary>Hot loop for the joint mode: one symbol per value, eight states in registers.</summary>
    private static unsafe int DecodeJoint<TE>(ReadOnlySpan<byte> stream, ReadOnlySpan<uint> table, scoped Span<uint> x, ulong* prefixValue, Fields fields, ref BitReader raw, byte* dst, int n)
        where TE : struct, IElementAccess
    {
        int i = 0;
        nint p = Rans.StateBytes;
        fixed (byte* s = stream)
        fixed (uint* t = table)
        {
            uint x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
            nint safeEnd = stream.Length - 16;
            while (i + 8 <= n && p <= safeEnd)
            {
                TE.Store(dst, i, prefixValue[RansStep.Unchecked(ref x0, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 1, prefixValue[RansStep.Unchecked(ref x1, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 2, prefixValue[RansStep.Unchecked(ref x2, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 3, prefixValue[RansStep.Unchecked(ref x3, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 4, prefixValue[RansStep.Unchecked(ref x4, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 5, prefixValue[RansStep.Unchecked(ref x5, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 6, prefixValue[RansStep.Unchecked(ref x6, t, s, ref p)] | fields.Assemble(ref raw));
                TE.Store(dst, i + 7, prefixValue[RansStep.Unchecked(ref x7, t, s, ref p)] | fields.Assemble(ref raw));
                i += 8;
            }

            x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3; x[4] = x4; x[5] = x5; x[6] = x6; x[7] = x7;
        }

        int q = (int)p;
        for (; i < n; i++)
        {
            uint a = RansStep.Checked(ref x[i & (Rans.Lanes - 1)], table, stream, ref q);
            TE.Store(dst, i, prefixValue[a] | fields.Assemble(ref raw));
        }

        return q;
    }

    /// <summary>General loop: exponent symbol in the previous exponent's context, then an optional mantissa symbol.</summary>
    private static unsafe int DecodeWithContexts<TE>(
        ReadOnlySpan<byte> stream,
        ReadOnlySpan<uint> tables,
        scoped Span<uint> x,
        ulong* prefixValue,
        scoped ReadOnlySpan<byte> contextOf,
        scoped ReadOnlySpan<byte> secondOf,
        int contexts,
        int k2,
        int secondShift,
        int firstContext,
        Fields fields,
        ref BitReader raw,
        byte* dst,
        int n)
        where TE : struct, IElementAccess
    {
        int q = Rans.StateBytes;
        int lane = 0;
        int ctx = firstContext;
        for (int i = 0; i < n; i++)
        {
            int a = (int)RansStep.Checked(ref x[lane], tables.Slice(ctx * Rans.Total, Rans.Total), stream, ref q);
            lane = (lane + 1) & (Rans.Lanes - 1);
            ulong v = prefixValue[a];
            if (k2 > 0)
            {
                uint b = RansStep.Checked(ref x[lane], tables.Slice((contexts + secondOf[a]) * Rans.Total, Rans.Total), stream, ref q);
                lane = (lane + 1) & (Rans.Lanes - 1);
                v |= (ulong)b << secondShift;
            }

            TE.Store(dst, i, v | fields.Assemble(ref raw));
            ctx = contextOf[a];
        }

        return q;
    }
}
