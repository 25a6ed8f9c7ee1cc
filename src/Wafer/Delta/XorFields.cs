using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>
/// The data-parallel half of collecting a 16- or 32-bit <c>delta-xor</c> chunk: per element, <c>x = target ^ base</c>
/// split into its sign+exponent field (context: the base's exponent bucket) and its mantissa field (context
/// <c>16 + 16 × (sign+exponent changed) + bucket</c>), the two fields' symbols (row plus token), their extra bits
/// joined (the sign+exponent field's first) and the joined count. A <see cref="Vector{T}"/> path and the scalar
/// reference it is tested against; both give the same values.
/// </summary>
/// <remarks>
/// Both fields are below 2^24 (at most 9 and 23 bits), so each token comes from the field converted to float
/// (<see cref="ValueTokens.Split24"/>). The joined extra bits take at most 6 + 21 bits.
/// </remarks>
internal static class XorFields
{
    /// <summary>
    /// Fills <paramref name="symbols"/> (two per element, sign+exponent field first), <paramref name="extras"/> and
    /// <paramref name="extraCounts"/> for every element; uses vectors when the hardware has them.
    /// </summary>
    public static void Compute<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, int anchor, Span<ushort> symbols, Span<uint> extras, Span<byte> extraCounts)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        if (TWidth.Bytes != f.Width || reference.Length < count * TWidth.Bytes || symbols.Length < 2 * count || extras.Length < count || extraCounts.Length < count)
        {
            throw new ArgumentException("element width differs from the dtype's, or reference or outputs shorter than the target", nameof(reference));
        }

        int done = Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian && TWidth.Bytes is 2 or 4
            ? ComputeVector<TWidth>(target, reference, f, anchor, symbols, extras, extraCounts)
            : 0;
        ComputeScalar<TWidth>(target[(done * TWidth.Bytes)..], reference[(done * TWidth.Bytes)..], f, anchor, symbols[(2 * done)..], extras[done..], extraCounts[done..]);
    }

    /// <summary>The scalar reference: element by element, exactly what <see cref="XorFieldDeltaCodec"/> specifies.</summary>
    public static void ComputeScalar<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, int anchor, Span<ushort> symbols, Span<uint> extras, Span<byte> extraCounts)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        uint mantissaMask = (1u << f.ExponentShift) - 1;
        for (int i = 0; i < count; i++)
        {
            uint b = TWidth.Read(reference, i);
            uint x = TWidth.Read(target, i) ^ b;
            int bucket = FloatFields.Bucket(anchor, f.Exponent(b));
            uint high = x >> f.ExponentShift;
            uint low = x & mantissaMask;
            int lowContext = FloatFields.ExponentBuckets + (high == 0 ? 0 : FloatFields.ExponentBuckets) + bucket;
            int highToken = ValueTokens.Token(high, out int highExtra);
            int lowToken = ValueTokens.Token(low, out int lowExtra);
            symbols[2 * i] = (ushort)((bucket * ContextTokenCoder.MaxAlphabet) + highToken);
            symbols[(2 * i) + 1] = (ushort)((lowContext * ContextTokenCoder.MaxAlphabet) + lowToken);
            extras[i] = (high & ((1u << highExtra) - 1)) | ((low & ((1u << lowExtra) - 1)) << highExtra);
            extraCounts[i] = (byte)(highExtra + lowExtra);
        }
    }

    /// <summary>Four vectors of 32-bit lanes at a time (their counts narrow to one vector of bytes); returns how many elements it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ComputeVector<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, int anchor, Span<ushort> symbols, Span<uint> extras, Span<byte> extraCounts)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        int lanes = Vector<uint>.Count;
        Span<uint> symbolPairs = MemoryMarshal.Cast<ushort, uint>(symbols[..(2 * count)]);
        var fields = new FieldVectors(f, anchor);
        int i = 0;
        for (; i <= count - (4 * lanes); i += 4 * lanes)
        {
            (Vector<uint> t0, Vector<uint> t1, Vector<uint> t2, Vector<uint> t3) = Load<TWidth>(target, i, lanes);
            (Vector<uint> b0, Vector<uint> b1, Vector<uint> b2, Vector<uint> b3) = Load<TWidth>(reference, i, lanes);
            Vector<uint> c0 = fields.Lanes(t0, b0, symbolPairs.Slice(i, lanes), extras.Slice(i, lanes));
            Vector<uint> c1 = fields.Lanes(t1, b1, symbolPairs.Slice(i + lanes, lanes), extras.Slice(i + lanes, lanes));
            Vector<uint> c2 = fields.Lanes(t2, b2, symbolPairs.Slice(i + (2 * lanes), lanes), extras.Slice(i + (2 * lanes), lanes));
            Vector<uint> c3 = fields.Lanes(t3, b3, symbolPairs.Slice(i + (3 * lanes), lanes), extras.Slice(i + (3 * lanes), lanes));
            Vector.Narrow(Vector.Narrow(c0, c1), Vector.Narrow(c2, c3)).CopyTo(extraCounts.Slice(i, 4 * lanes));
        }

        return i;
    }

    /// <summary>Elements <c>i .. i + 4 × lanes − 1</c> as four vectors of 32-bit lanes (16-bit elements widened).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<uint>, Vector<uint>, Vector<uint>, Vector<uint>) Load<TWidth>(ReadOnlySpan<byte> data, int i, int lanes)
        where TWidth : struct, IElementWidth
    {
        if (TWidth.Bytes == 2)
        {
            ReadOnlySpan<ushort> values = MemoryMarshal.Cast<byte, ushort>(data);
            Vector.Widen(new Vector<ushort>(values.Slice(i, 2 * lanes)), out Vector<uint> v0, out Vector<uint> v1);
            Vector.Widen(new Vector<ushort>(values.Slice(i + (2 * lanes), 2 * lanes)), out Vector<uint> v2, out Vector<uint> v3);
            return (v0, v1, v2, v3);
        }

        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(data);
        return (new Vector<uint>(words.Slice(i, lanes)), new Vector<uint>(words.Slice(i + lanes, lanes)), new Vector<uint>(words.Slice(i + (2 * lanes), lanes)), new Vector<uint>(words.Slice(i + (3 * lanes), lanes)));
    }

    /// <summary>The dtype's field layout and the chunk's anchor as vectors.</summary>
    private readonly struct FieldVectors(in FloatFields f, int anchor)
    {
        private readonly int _exponentShift = f.ExponentShift;
        private readonly Vector<uint> _exponentMask = new(f.ExponentMask);
        private readonly Vector<uint> _mantissaMask = new((1u << f.ExponentShift) - 1);
        private readonly Vector<int> _anchor = new(anchor);
        private readonly Vector<int> _alphabet = new(ContextTokenCoder.MaxAlphabet);

        /// <summary>One vector of elements: stores their symbol pairs and joined extra bits, returns the joined counts.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<uint> Lanes(Vector<uint> t, Vector<uint> b, Span<uint> symbolPairs, Span<uint> extras)
        {
            Vector<uint> x = t ^ b;
            Vector<uint> high = Vector.ShiftRightLogical(x, _exponentShift);
            Vector<uint> low = x & _mantissaMask;
            // The sign+exponent field's context is the bucket; the mantissa field's is 16 or 32 contexts above it.
            Vector<uint> highRow = OrderedResiduals16.ContextRow(b, Vector<uint>.Zero, _anchor, _exponentMask, _exponentShift, _alphabet, Vector<int>.Zero, new Vector<int>(FloatFields.ExponentBuckets - 1));
            Vector<uint> above = Vector.ConditionalSelect(Vector.Equals(high, Vector<uint>.Zero), new Vector<uint>(FloatFields.ExponentBuckets), new Vector<uint>(2 * FloatFields.ExponentBuckets));
            (Vector<uint> highToken, Vector<uint> highCount, Vector<uint> highExtra) = ValueTokens.Split24(high);
            (Vector<uint> lowToken, Vector<uint> lowCount, Vector<uint> lowExtra) = ValueTokens.Split24(low);
            Vector<uint> highSymbol = highRow + highToken;
            Vector<uint> lowSymbol = highRow + (above * new Vector<uint>(ContextTokenCoder.MaxAlphabet)) + lowToken;
            (highSymbol | Vector.ShiftLeft(lowSymbol, 16)).CopyTo(symbolPairs);

            // The low field's extra bits go above the high field's: times 2^highCount, a float with that exponent.
            Vector<uint> scale = Vector.AsVectorUInt32(Vector.ConvertToInt32(Vector.AsVectorSingle(Vector.ShiftLeft(highCount + new Vector<uint>(127), 23))));
            (highExtra + (lowExtra * scale)).CopyTo(extras);
            return highCount + lowCount;
        }
    }
}
