using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>
/// The data-parallel half of collecting an F32 <c>delta-ord</c> chunk: per element, the symbol (context row plus
/// token, as in <see cref="OrderedResiduals16"/>), the extra bits of the zig-zagged ordered difference <c>z</c> and
/// their count, which need 35 bits together and so go to two outputs. A <see cref="Vector{T}"/> path and the scalar
/// reference it is tested against; both give the same values.
/// </summary>
/// <remarks>
/// The token needs <c>z</c>'s bit length and the two bits below its leading one. A float holds integers below 2^24
/// exactly, so those are split as they are (<see cref="ValueTokens.Split24"/>); from 2^24 up, <c>z &gt;&gt; 8</c>
/// is split instead (its top three bits are <c>z</c>'s) and the results corrected by the shift.
/// </remarks>
internal static class OrderedResiduals32
{
    /// <summary>Fills <paramref name="extras"/>, <paramref name="extraCounts"/> and <paramref name="symbols"/> for every element; uses vectors when the hardware has them.</summary>
    public static void Compute(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in OrderedResiduals16.ContextWeights weights, Span<uint> extras, Span<byte> extraCounts, Span<ushort> symbols)
    {
        int count = target.Length / 4;
        if (reference.Length < count * 4 || extras.Length < count || extraCounts.Length < count || symbols.Length < count)
        {
            throw new ArgumentException("reference or outputs shorter than the target", nameof(reference));
        }

        int done = Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian ? ComputeVector(target, reference, weights, extras, extraCounts, symbols) : 0;
        ComputeScalar(target[(done * 4)..], reference[(done * 4)..], weights, extras[done..], extraCounts[done..], symbols[done..]);
    }

    /// <summary>The scalar reference: element by element, exactly what <see cref="OrderedDeltaCodec"/> specifies.</summary>
    public static void ComputeScalar(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in OrderedResiduals16.ContextWeights weights, Span<uint> extras, Span<byte> extraCounts, Span<ushort> symbols)
    {
        int count = target.Length / 4;
        for (int i = 0; i < count; i++)
        {
            uint b = Width32.Read(reference, i);
            uint z = FloatFields.Residual(Width32.Read(target, i), b, 31, uint.MaxValue, 0x80000000);
            int bucket = FloatFields.Bucket(weights.Anchor, (b >> (int)weights.ExponentShift) & weights.ExponentMask);
            int context = (bucket * weights.BucketWeight) + ((int)(b >> 31) * weights.SignWeight);
            int token = ValueTokens.Token(z, out int extraBits);
            extras[i] = z & (uint)((1UL << extraBits) - 1);
            extraCounts[i] = (byte)extraBits;
            symbols[i] = (ushort)((context * ContextTokenCoder.MaxAlphabet) + token);
        }
    }

    /// <summary>Four vectors of elements at a time (their counts narrow to one vector of bytes); returns how many elements it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ComputeVector(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in OrderedResiduals16.ContextWeights weights, Span<uint> extras, Span<byte> extraCounts, Span<ushort> symbols)
    {
        int count = target.Length / 4;
        int lanes = Vector<uint>.Count;
        ReadOnlySpan<uint> t32 = MemoryMarshal.Cast<byte, uint>(target[..(count * 4)]);
        ReadOnlySpan<uint> b32 = MemoryMarshal.Cast<byte, uint>(reference[..(count * 4)]);
        var context = new ContextVectors(weights);
        int i = 0;
        for (; i <= count - (4 * lanes); i += 4 * lanes)
        {
            (Vector<uint> s0, Vector<uint> c0) = Lanes(new Vector<uint>(t32.Slice(i, lanes)), new Vector<uint>(b32.Slice(i, lanes)), context, extras.Slice(i, lanes));
            (Vector<uint> s1, Vector<uint> c1) = Lanes(new Vector<uint>(t32.Slice(i + lanes, lanes)), new Vector<uint>(b32.Slice(i + lanes, lanes)), context, extras.Slice(i + lanes, lanes));
            (Vector<uint> s2, Vector<uint> c2) = Lanes(new Vector<uint>(t32.Slice(i + (2 * lanes), lanes)), new Vector<uint>(b32.Slice(i + (2 * lanes), lanes)), context, extras.Slice(i + (2 * lanes), lanes));
            (Vector<uint> s3, Vector<uint> c3) = Lanes(new Vector<uint>(t32.Slice(i + (3 * lanes), lanes)), new Vector<uint>(b32.Slice(i + (3 * lanes), lanes)), context, extras.Slice(i + (3 * lanes), lanes));
            Vector.Narrow(s0, s1).CopyTo(symbols.Slice(i, 2 * lanes));
            Vector.Narrow(s2, s3).CopyTo(symbols.Slice(i + (2 * lanes), 2 * lanes));
            Vector.Narrow(Vector.Narrow(c0, c1), Vector.Narrow(c2, c3)).CopyTo(extraCounts.Slice(i, 4 * lanes));
        }

        return i;
    }

    /// <summary>One vector of elements: stores their extra bits, returns their symbols and extra-bit counts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<uint> Symbol, Vector<uint> ExtraCount) Lanes(Vector<uint> t, Vector<uint> b, in ContextVectors context, Span<uint> extras)
    {
        var top = new Vector<uint>(0x80000000);
        Vector<uint> tSign = Vector.ShiftRightLogical(t, 31);
        Vector<uint> bSign = Vector.ShiftRightLogical(b, 31);
        Vector<uint> difference = (t ^ ((Vector<uint>.Zero - tSign) | top)) - (b ^ ((Vector<uint>.Zero - bSign) | top));
        Vector<uint> z = Vector.ShiftLeft(difference, 1) ^ (Vector<uint>.Zero - Vector.ShiftRightLogical(difference, 31));

        // From 2^24 up, z >> 8 is split instead (it keeps z's top three bits): z's token is 32 higher (the bit length
        // is 8 more, four tokens per bit length), its count of extra bits 8 more, and its extra bits have z's low 8 below.
        Vector<uint> wide = Vector.GreaterThanOrEqual(z, new Vector<uint>(1u << 24));
        (Vector<uint> token, Vector<uint> extraCount, Vector<uint> extra) = ValueTokens.Split24(Vector.ConditionalSelect(wide, Vector.ShiftRightLogical(z, 8), z));
        token += wide & new Vector<uint>(32);
        extraCount += wide & new Vector<uint>(8);
        Vector.ConditionalSelect(wide, Vector.ShiftLeft(extra, 8) | (z & new Vector<uint>(0xFF)), extra).CopyTo(extras);
        return (context.Row(b, bSign) + token, extraCount);
    }

    /// <summary>The context weights as vectors, premultiplied by the alphabet as symbols need them.</summary>
    private readonly struct ContextVectors(OrderedResiduals16.ContextWeights weights)
    {
        private readonly Vector<int> _anchor = new(weights.Anchor);
        private readonly Vector<uint> _exponentMask = new(weights.ExponentMask);
        private readonly int _exponentShift = (int)weights.ExponentShift;
        private readonly Vector<int> _bucketWeight = new(weights.BucketWeight * ContextTokenCoder.MaxAlphabet);
        private readonly Vector<int> _signWeight = new(weights.SignWeight * ContextTokenCoder.MaxAlphabet);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<uint> Row(Vector<uint> b, Vector<uint> bSign) =>
            OrderedResiduals16.ContextRow(b, bSign, _anchor, _exponentMask, _exponentShift, _bucketWeight, _signWeight, new Vector<int>(FloatFields.ExponentBuckets - 1));
    }
}
