using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>
/// The data-parallel half of collecting a 16-bit (BF16, F16) <c>delta-ord</c> chunk: per element, the symbol row
/// <c>(bucket × bucketWeight + sign × signWeight) × MaxAlphabet + token(z)</c>, and what the serial pass writes for
/// it, packed (<see cref="Pack"/>): the extra bits of the zig-zagged ordered difference <c>z</c> and their count. A <see cref="Vector{T}"/> path and the scalar reference it is tested against; both give the same bytes.
/// </summary>
/// <remarks>The tokens come from the residuals converted to float (<see cref="ValueTokens.Split24"/>).</remarks>
internal static class OrderedResiduals16
{
    /// <summary>Per-layout weights of the exponent bucket and the base sign in the context.</summary>
    public readonly record struct ContextWeights(int Anchor, uint ExponentShift, uint ExponentMask, int BucketWeight, int SignWeight);

    /// <summary>A packed element: the extra bits (below bit 16) and their count (bits 16..20).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Pack(uint z)
    {
        ValueTokens.Token(z, out int extraBits);
        return (z & ((1u << extraBits) - 1)) | ((uint)extraBits << 16);
    }

    /// <summary>Fills <paramref name="residuals"/> (packed) and <paramref name="symbols"/> for every element; uses vectors when the hardware has them.</summary>
    public static void Compute(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in ContextWeights weights, Span<uint> residuals, Span<ushort> symbols)
    {
        int count = target.Length / 2;
        if (reference.Length < count * 2 || residuals.Length < count || symbols.Length < count)
        {
            throw new ArgumentException("reference or outputs shorter than the target", nameof(reference));
        }

        int done = Vector.IsHardwareAccelerated ? ComputeVector(target, reference, weights, residuals, symbols) : 0;
        ComputeScalar(target[(done * 2)..], reference[(done * 2)..], weights, residuals[done..], symbols[done..]);
    }

    /// <summary>The scalar reference: element by element, exactly what <see cref="OrderedDeltaCodec"/> specifies.</summary>
    public static void ComputeScalar(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in ContextWeights weights, Span<uint> residuals, Span<ushort> symbols)
    {
        int count = target.Length / 2;
        for (int i = 0; i < count; i++)
        {
            uint b = Width16.Read(reference, i);
            uint t = Width16.Read(target, i);
            uint z = FloatFields.Residual(t, b, 15, 0xFFFF, 0x8000);
            int bucket = FloatFields.Bucket(weights.Anchor, (b >> (int)weights.ExponentShift) & weights.ExponentMask);
            int context = (bucket * weights.BucketWeight) + ((int)(b >> 15) * weights.SignWeight);
            residuals[i] = Pack(z);
            symbols[i] = (ushort)((context * ContextTokenCoder.MaxAlphabet) + ValueTokens.Token(z, out _));
        }
    }

    /// <summary>Whole vectors of 16-bit elements; returns how many elements it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ComputeVector(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in ContextWeights weights, Span<uint> residuals, Span<ushort> symbols)
    {
        int count = target.Length / 2;
        int step = Vector<ushort>.Count;
        ReadOnlySpan<ushort> t16 = MemoryMarshal.Cast<byte, ushort>(target[..(count * 2)]);
        ReadOnlySpan<ushort> b16 = MemoryMarshal.Cast<byte, ushort>(reference[..(count * 2)]);
        if (!BitConverter.IsLittleEndian)
        {
            return 0;
        }

        var anchor = new Vector<int>(weights.Anchor);
        var exponentMask = new Vector<uint>(weights.ExponentMask);
        int exponentShift = (int)weights.ExponentShift;
        var bucketWeight = new Vector<int>(weights.BucketWeight * ContextTokenCoder.MaxAlphabet);
        var signWeight = new Vector<int>(weights.SignWeight * ContextTokenCoder.MaxAlphabet);
        var maxBucket = new Vector<int>(FloatFields.ExponentBuckets - 1);
        int i = 0;
        for (; i <= count - step; i += step)
        {
            Vector.Widen(new Vector<ushort>(t16.Slice(i, step)), out Vector<uint> tLow, out Vector<uint> tHigh);
            Vector.Widen(new Vector<ushort>(b16.Slice(i, step)), out Vector<uint> bLow, out Vector<uint> bHigh);
            (Vector<uint> zLow, Vector<uint> sLow) = Lanes(tLow, bLow, anchor, exponentMask, exponentShift, bucketWeight, signWeight, maxBucket);
            (Vector<uint> zHigh, Vector<uint> sHigh) = Lanes(tHigh, bHigh, anchor, exponentMask, exponentShift, bucketWeight, signWeight, maxBucket);
            zLow.CopyTo(residuals.Slice(i, step / 2));
            zHigh.CopyTo(residuals.Slice(i + (step / 2), step / 2));
            Vector.Narrow(sLow, sHigh).CopyTo(symbols.Slice(i, step));
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<uint> Packed, Vector<uint> Symbol) Lanes(Vector<uint> t, Vector<uint> b, Vector<int> anchor, Vector<uint> exponentMask, int exponentShift, Vector<int> bucketWeight, Vector<int> signWeight, Vector<int> maxBucket)
    {
        var low16 = new Vector<uint>(0xFFFF);
        var top = new Vector<uint>(0x8000);
        Vector<uint> tSign = Vector.ShiftRightLogical(t, 15);
        Vector<uint> bSign = Vector.ShiftRightLogical(b, 15);
        Vector<uint> tOrdered = t ^ (((Vector<uint>.Zero - tSign) & low16) | top);
        Vector<uint> bOrdered = b ^ (((Vector<uint>.Zero - bSign) & low16) | top);
        Vector<uint> difference = (tOrdered - bOrdered) & low16;
        Vector<uint> z = (Vector.ShiftLeft(difference, 1) ^ (Vector<uint>.Zero - Vector.ShiftRightLogical(difference, 15))) & low16;

        (Vector<uint> token, Vector<uint> extraCount, Vector<uint> extra) = ValueTokens.Split24(z);
        Vector<uint> packed = extra | Vector.ShiftLeft(extraCount, 16);
        return (packed, ContextRow(b, bSign, anchor, exponentMask, exponentShift, bucketWeight, signWeight, maxBucket) + token);
    }

    /// <summary>
    /// The first symbol of each element's context, <c>(bucket × bucketWeight + sign × signWeight) × MaxAlphabet</c>,
    /// from its base bits <paramref name="b"/> and base sign (the weights come premultiplied by the alphabet).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<uint> ContextRow(Vector<uint> b, Vector<uint> bSign, Vector<int> anchor, Vector<uint> exponentMask, int exponentShift, Vector<int> bucketWeight, Vector<int> signWeight, Vector<int> maxBucket)
    {
        Vector<int> exponent = Vector.AsVectorInt32(Vector.ShiftRightLogical(b, exponentShift) & exponentMask);
        Vector<int> bucket = Vector.Min(Vector.Max(anchor - exponent, Vector<int>.Zero), maxBucket);
        return Vector.AsVectorUInt32((bucket * bucketWeight) + (Vector.AsVectorInt32(bSign) * signWeight));
    }

    /// <summary>
    /// The inverse: element i = the base's ordered integer plus the un-zig-zagged <paramref name="residuals"/>[i],
    /// mapped back to float bits (16 bits, little-endian). Vectorised when the hardware allows; <see cref="RebuildScalar"/> is the reference.
    /// </summary>
    public static void Rebuild(ReadOnlySpan<byte> reference, ReadOnlySpan<ushort> residuals, Span<byte> destination)
    {
        int count = residuals.Length;
        if (reference.Length < count * 2 || destination.Length < count * 2)
        {
            throw new ArgumentException("reference or destination shorter than the residuals", nameof(reference));
        }

        int done = Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian ? RebuildVector(reference, residuals, destination) : 0;
        RebuildScalar(reference[(done * 2)..], residuals[done..], destination[(done * 2)..]);
    }

    public static void RebuildScalar(ReadOnlySpan<byte> reference, ReadOnlySpan<ushort> residuals, Span<byte> destination)
    {
        for (int i = 0; i < residuals.Length; i++)
        {
            Width16.Write(destination, i, FloatFields.Rebuild(Width16.Read(reference, i), residuals[i], 15, 0xFFFF, 0x8000));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RebuildVector(ReadOnlySpan<byte> reference, ReadOnlySpan<ushort> residuals, Span<byte> destination)
    {
        int count = residuals.Length;
        int step = Vector<ushort>.Count;
        ReadOnlySpan<ushort> b16 = MemoryMarshal.Cast<byte, ushort>(reference[..(count * 2)]);
        Span<ushort> out16 = MemoryMarshal.Cast<byte, ushort>(destination[..(count * 2)]);
        var top = new Vector<ushort>(0x8000);
        var one = new Vector<ushort>(1);
        int i = 0;
        for (; i <= count - step; i += step)
        {
            var b = new Vector<ushort>(b16.Slice(i, step));
            var z = new Vector<ushort>(residuals.Slice(i, step));

            // 16-bit lanes wrap exactly as the element width does.
            Vector<ushort> baseOrdered = b ^ ((Vector<ushort>.Zero - Vector.ShiftRightLogical(b, 15)) | top);
            Vector<ushort> difference = Vector.ShiftRightLogical(z, 1) ^ (Vector<ushort>.Zero - (z & one));
            Vector<ushort> ordered = baseOrdered + difference;
            Vector<ushort> value = ordered ^ ((Vector<ushort>.Zero - (Vector.ShiftRightLogical(ordered, 15) ^ one)) | top);
            value.CopyTo(out16.Slice(i, step));
        }

        return i;
    }
}
