using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Wafer.Delta;

namespace Wafer.Codecs.Kernels;

/// <summary>
/// F16 and BF16 elements converted into each other by the rules of <see cref="BaseConversion"/> (through the F32 of
/// the value, rounded to nearest even), and the scan that finds an F16 chunk whose values are all BF16 values: an F16
/// model cast from a BF16 one (as many hub repositories hold) has three dead mantissa bits in every normal value,
/// which <c>delta-ord</c> and <c>float-split</c> would pay for (in every changed element, or in slow field packing);
/// both code such a chunk as BF16 instead. Each kernel has Vector256 and Vector128 paths for the normal values and
/// zeros (the lane arithmetic in one helper per width), finishing the few blocks with subnormals, infinities or NaNs by
/// the scalar reference, which is always there and which tests compare with both widths on all 65,536 patterns.
/// </summary>
internal static class HalfBFloat16
{
    /// <summary>
    /// Whether the F16 bits <paramref name="half"/> are a BF16 value that <see cref="RoundToHalf"/> gives back exactly:
    /// the F32 of its value has a zero low half, and that F32 rounds back to the same F16 bits (a signalling NaN does
    /// not: the conversion sets the quiet bit).
    /// </summary>
    public static bool IsBFloat16(ushort half)
    {
        uint single = BaseConversion.HalfBitsToSingleBits(half);
        return (single & 0xFFFF) == 0 && BaseConversion.SingleBitsToHalfBits(single) == half;
    }

    /// <summary>True when every F16 element of <paramref name="halves"/> (little-endian) is a BF16 value (<see cref="IsBFloat16"/>).</summary>
    public static bool AllBFloat16(ReadOnlySpan<byte> halves)
    {
        ReadOnlySpan<ushort> values = MemoryMarshal.Cast<byte, ushort>(halves);
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated && values.Length >= Vector256<ushort>.Count)
        {
            return AllBFloat16Vector256(values);
        }

        return BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated && values.Length >= Vector128<ushort>.Count
            ? AllBFloat16Vector128(values)
            : AllBFloat16Scalar(halves);
    }

    /// <summary>Scalar reference for <see cref="AllBFloat16"/>.</summary>
    public static bool AllBFloat16Scalar(ReadOnlySpan<byte> halves)
    {
        for (int i = 0; 2 * i < halves.Length; i++)
        {
            if (!IsBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(halves[(2 * i)..])))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Vector256 path of <see cref="AllBFloat16"/>; needs at least one vector of little-endian elements.</summary>
    public static bool AllBFloat16Vector256(ReadOnlySpan<ushort> values)
    {
        ref ushort start = ref MemoryMarshal.GetReference(values);
        Vector256<ushort> any = Vector256<ushort>.Zero;
        for (int i = 0; i + Vector256<ushort>.Count <= values.Length; i += Vector256<ushort>.Count)
        {
            any |= Dead(Vector256.LoadUnsafe(ref start, (nuint)i));

            // Most F16 chunks have live low bits from their first elements on: stop early, once per 256 elements.
            if ((i & 255) == 256 - Vector256<ushort>.Count && any != Vector256<ushort>.Zero)
            {
                return false;
            }
        }

        // The last, overlapping vector covers the tail.
        any |= Dead(Vector256.LoadUnsafe(ref start, (nuint)(values.Length - Vector256<ushort>.Count)));
        return any == Vector256<ushort>.Zero;
    }

    /// <summary>Vector128 path of <see cref="AllBFloat16"/>; needs at least one vector of little-endian elements.</summary>
    public static bool AllBFloat16Vector128(ReadOnlySpan<ushort> values)
    {
        ref ushort start = ref MemoryMarshal.GetReference(values);
        Vector128<ushort> any = Vector128<ushort>.Zero;
        for (int i = 0; i + Vector128<ushort>.Count <= values.Length; i += Vector128<ushort>.Count)
        {
            any |= Dead(Vector128.LoadUnsafe(ref start, (nuint)i));
            if ((i & 255) == 256 - Vector128<ushort>.Count && any != Vector128<ushort>.Zero)
            {
                return false;
            }
        }

        any |= Dead(Vector128.LoadUnsafe(ref start, (nuint)(values.Length - Vector128<ushort>.Count)));
        return any == Vector128<ushort>.Zero;
    }

    /// <summary>
    /// Each F16 element of <paramref name="halves"/> as BF16 (<see cref="BaseConversion.SingleBitsToBFloat16Bits"/> of
    /// its exact F32): rounded to nearest even, exact for BF16 values. Little-endian, as many elements.
    /// </summary>
    public static void RoundToBFloat16(ReadOnlySpan<byte> halves, Span<byte> destination) =>
        ToBFloat16(halves, destination, exactOnly: false, Width());

    /// <summary>
    /// <see cref="RoundToBFloat16"/> for F16 elements that are all BF16 values (<see cref="IsBFloat16"/>): their exact
    /// BF16 values, in one pass with the scan; false, with <paramref name="destination"/> partly written, as soon as a
    /// block of elements holds one that is not (in most F16 chunks, among the first few).
    /// </summary>
    public static bool TryToBFloat16(ReadOnlySpan<byte> halves, Span<byte> destination) =>
        ToBFloat16(halves, destination, exactOnly: true, Width());

    /// <summary>
    /// <see cref="RoundToBFloat16"/> (<paramref name="exactOnly"/> false) or <see cref="TryToBFloat16"/> (true) with
    /// vectors of <paramref name="width"/> bits: 256, 128, or 0 for the scalar reference alone (tests pick each).
    /// </summary>
    public static bool ToBFloat16(ReadOnlySpan<byte> halves, Span<byte> destination, bool exactOnly, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, halves.Length & ~1, nameof(destination));
        int count = halves.Length / 2;
        ref ushort from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(halves));
        ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
        int i = 0;
        int lanes = width / 16;
        for (; width == 256 && i + lanes <= count; i += lanes)
        {
            Vector256<ushort> h = Vector256.LoadUnsafe(ref from, (nuint)i);
            if (exactOnly && Dead(h) != Vector256<ushort>.Zero)
            {
                return false;
            }

            ToBFloat16(h, out Vector256<ushort> special).StoreUnsafe(ref to, (nuint)i);
            for (uint lane = LaneBits(special); lane != 0; lane &= lane - 1)
            {
                // A subnormal, infinity or NaN (already found to be a BF16 value when exactOnly) by the scalar rule.
                int at = i + BitOperations.TrailingZeroCount(lane);
                Unsafe.Add(ref to, at) = BaseConversion.SingleBitsToBFloat16Bits(BaseConversion.HalfBitsToSingleBits(Unsafe.Add(ref from, at)));
            }
        }

        for (; width == 128 && i + lanes <= count; i += lanes)
        {
            Vector128<ushort> h = Vector128.LoadUnsafe(ref from, (nuint)i);
            if (exactOnly && Dead(h) != Vector128<ushort>.Zero)
            {
                return false;
            }

            ToBFloat16(h, out Vector128<ushort> special).StoreUnsafe(ref to, (nuint)i);
            for (uint lane = LaneBits(special); lane != 0; lane &= lane - 1)
            {
                // A subnormal, infinity or NaN (already found to be a BF16 value when exactOnly) by the scalar rule.
                int at = i + BitOperations.TrailingZeroCount(lane);
                Unsafe.Add(ref to, at) = BaseConversion.SingleBitsToBFloat16Bits(BaseConversion.HalfBitsToSingleBits(Unsafe.Add(ref from, at)));
            }
        }

        return ToBFloat16Scalar(halves[(2 * i)..(2 * count)], destination[(2 * i)..], exactOnly);
    }

    /// <summary>
    /// Scalar reference for <see cref="RoundToBFloat16"/> and, <paramref name="exactOnly"/>, <see cref="TryToBFloat16"/>
    /// (false at the first element that is not a BF16 value).
    /// </summary>
    public static bool ToBFloat16Scalar(ReadOnlySpan<byte> halves, Span<byte> destination, bool exactOnly)
    {
        for (int i = 0; 2 * i < halves.Length; i++)
        {
            ushort half = BinaryPrimitives.ReadUInt16LittleEndian(halves[(2 * i)..]);
            if (exactOnly && !IsBFloat16(half))
            {
                return false;
            }

            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], BaseConversion.SingleBitsToBFloat16Bits(BaseConversion.HalfBitsToSingleBits(half)));
        }

        return true;
    }

    /// <summary>
    /// Each BF16 element of <paramref name="bf16"/> as F16 (<see cref="BaseConversion.SingleBitsToHalfBits"/> of its
    /// F32): rounded to nearest even, exact for the values F16 holds, so the inverse of <see cref="RoundToBFloat16"/>
    /// on elements that are <see cref="IsBFloat16"/>. Little-endian, as many elements.
    /// </summary>
    public static void RoundToHalf(ReadOnlySpan<byte> bf16, Span<byte> destination) => RoundToHalf(bf16, destination, Width());

    /// <summary><see cref="RoundToHalf"/> with vectors of <paramref name="width"/> bits: 256, 128, or 0 for the scalar reference alone.</summary>
    public static void RoundToHalf(ReadOnlySpan<byte> bf16, Span<byte> destination, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, bf16.Length & ~1, nameof(destination));
        int count = bf16.Length / 2;
        ref ushort from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(bf16));
        ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
        int i = 0;
        int lanes = width / 16;
        for (; width == 256 && i + lanes <= count; i += lanes)
        {
            ToHalf(Vector256.LoadUnsafe(ref from, (nuint)i), out Vector256<ushort> special).StoreUnsafe(ref to, (nuint)i);
            for (uint lane = LaneBits(special); lane != 0; lane &= lane - 1)
            {
                // Outside F16's normal range: the scalar rule.
                int at = i + BitOperations.TrailingZeroCount(lane);
                Unsafe.Add(ref to, at) = BaseConversion.SingleBitsToHalfBits((uint)Unsafe.Add(ref from, at) << 16);
            }
        }

        for (; width == 128 && i + lanes <= count; i += lanes)
        {
            ToHalf(Vector128.LoadUnsafe(ref from, (nuint)i), out Vector128<ushort> special).StoreUnsafe(ref to, (nuint)i);
            for (uint lane = LaneBits(special); lane != 0; lane &= lane - 1)
            {
                // Outside F16's normal range: the scalar rule.
                int at = i + BitOperations.TrailingZeroCount(lane);
                Unsafe.Add(ref to, at) = BaseConversion.SingleBitsToHalfBits((uint)Unsafe.Add(ref from, at) << 16);
            }
        }

        RoundToHalfScalar(bf16[(2 * i)..(2 * count)], destination[(2 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="RoundToHalf"/>.</summary>
    public static void RoundToHalfScalar(ReadOnlySpan<byte> bf16, Span<byte> destination)
    {
        for (int i = 0; 2 * i < bf16.Length; i++)
        {
            uint single = (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16[(2 * i)..]) << 16;
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], BaseConversion.SingleBitsToHalfBits(single));
        }
    }

    /// <summary>
    /// One bit per lane of a lane mask, and no more: the optimising JIT may compute a negated comparison's
    /// <c>ExtractMostSignificantBits</c> with bits set past the vector's lane count, which would send the scalar fix-up
    /// past the block's end (see HalfSingle).
    /// </summary>
    private static uint LaneBits(Vector256<ushort> mask) => mask.ExtractMostSignificantBits() & ((1u << Vector256<ushort>.Count) - 1);

    /// <summary>The Vector128 twin of <see cref="LaneBits(Vector256{ushort})"/>.</summary>
    private static uint LaneBits(Vector128<ushort> mask) => mask.ExtractMostSignificantBits() & ((1u << Vector128<ushort>.Count) - 1);

    /// <summary>The widest vector this machine accelerates (256 or 128 bits), or 0 (scalar) on big-endian machines and without vectors.</summary>
    private static int Width() =>
        !BitConverter.IsLittleEndian ? 0 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// Non-zero lanes for F16 values that are not <see cref="IsBFloat16"/>. A normal value, infinity or NaN needs its
    /// low three mantissa bits zero (its F32 has them at bits 13 to 15), a NaN its quiet bit too; a subnormal m × 2^-24
    /// needs at most eight significant bits: bit 0 zero when its top bit is bit 8, bits 0 and 1 when it is bit 9.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ushort> Dead(Vector256<ushort> h)
    {
        Vector256<ushort> exponent = h & Vector256.Create((ushort)0x7C00);
        Vector256<ushort> top = (h >>> 8) & Vector256.Create((ushort)3);
        Vector256<ushort> low = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<ushort>.Zero), top | (top >>> 1), Vector256.Create((ushort)7));
        Vector256<ushort> signallingNaN = Vector256.Equals(exponent, Vector256.Create((ushort)0x7C00))
            & ~Vector256.Equals(h & Vector256.Create((ushort)0x3FF), Vector256<ushort>.Zero)
            & Vector256.Equals(h & Vector256.Create((ushort)0x200), Vector256<ushort>.Zero);
        return (h & low) | signallingNaN;
    }

    /// <summary>The Vector128 twin of <see cref="Dead(Vector256{ushort})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Dead(Vector128<ushort> h)
    {
        Vector128<ushort> exponent = h & Vector128.Create((ushort)0x7C00);
        Vector128<ushort> top = (h >>> 8) & Vector128.Create((ushort)3);
        Vector128<ushort> low = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128<ushort>.Zero), top | (top >>> 1), Vector128.Create((ushort)7));
        Vector128<ushort> signallingNaN = Vector128.Equals(exponent, Vector128.Create((ushort)0x7C00))
            & ~Vector128.Equals(h & Vector128.Create((ushort)0x3FF), Vector128<ushort>.Zero)
            & Vector128.Equals(h & Vector128.Create((ushort)0x200), Vector128<ushort>.Zero);
        return (h & low) | signallingNaN;
    }

    /// <summary>
    /// F16 → BF16 for lanes of normal values (the 10-bit mantissa rounded to 7, a carry moving into the exponent as it
    /// should; the exponent rebiased, 15 → 127) and zeros (their sign kept); <paramref name="special"/> marks the lanes
    /// that hold anything else, for the scalar rule.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ushort> ToBFloat16(Vector256<ushort> h, out Vector256<ushort> special)
    {
        Vector256<ushort> magnitude = h & Vector256.Create((ushort)0x7FFF);
        Vector256<ushort> exponent = h & Vector256.Create((ushort)0x7C00);
        Vector256<ushort> zero = Vector256.Equals(magnitude, Vector256<ushort>.Zero);
        Vector256<ushort> rounded = ((magnitude + Vector256.Create((ushort)3) + ((magnitude >>> 3) & Vector256<ushort>.One)) >>> 3) + Vector256.Create((ushort)0x3800);
        special = (Vector256.Equals(exponent, Vector256<ushort>.Zero) | Vector256.Equals(exponent, Vector256.Create((ushort)0x7C00))) & ~zero;
        return (h & Vector256.Create((ushort)0x8000)) | (rounded & ~zero);
    }

    /// <summary>The Vector128 twin of <see cref="ToBFloat16(Vector256{ushort}, out Vector256{ushort})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> ToBFloat16(Vector128<ushort> h, out Vector128<ushort> special)
    {
        Vector128<ushort> magnitude = h & Vector128.Create((ushort)0x7FFF);
        Vector128<ushort> exponent = h & Vector128.Create((ushort)0x7C00);
        Vector128<ushort> zero = Vector128.Equals(magnitude, Vector128<ushort>.Zero);
        Vector128<ushort> rounded = ((magnitude + Vector128.Create((ushort)3) + ((magnitude >>> 3) & Vector128<ushort>.One)) >>> 3) + Vector128.Create((ushort)0x3800);
        special = (Vector128.Equals(exponent, Vector128<ushort>.Zero) | Vector128.Equals(exponent, Vector128.Create((ushort)0x7C00))) & ~zero;
        return (h & Vector128.Create((ushort)0x8000)) | (rounded & ~zero);
    }

    /// <summary>
    /// BF16 → F16 for lanes in F16's normal range (BF16 exponents 113 to 142 lose no bits: rebias, 127 → 15, and shift
    /// the 7-bit mantissa up to 10) and zeros (their sign kept); <paramref name="special"/> marks the lanes that hold
    /// anything else, for the scalar rule.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ushort> ToHalf(Vector256<ushort> b, out Vector256<ushort> special)
    {
        Vector256<ushort> magnitude = b & Vector256.Create((ushort)0x7FFF);
        Vector256<ushort> zero = Vector256.Equals(magnitude, Vector256<ushort>.Zero);
        special = ~(Vector256.LessThan(magnitude - Vector256.Create((ushort)0x3880), Vector256.Create((ushort)(0x4780 - 0x3880))) | zero);
        return (b & Vector256.Create((ushort)0x8000)) | (((magnitude - Vector256.Create((ushort)0x3800)) << 3) & ~zero);
    }

    /// <summary>The Vector128 twin of <see cref="ToHalf(Vector256{ushort}, out Vector256{ushort})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> ToHalf(Vector128<ushort> b, out Vector128<ushort> special)
    {
        Vector128<ushort> magnitude = b & Vector128.Create((ushort)0x7FFF);
        Vector128<ushort> zero = Vector128.Equals(magnitude, Vector128<ushort>.Zero);
        special = ~(Vector128.LessThan(magnitude - Vector128.Create((ushort)0x3880), Vector128.Create((ushort)(0x4780 - 0x3880))) | zero);
        return (b & Vector128.Create((ushort)0x8000)) | (((magnitude - Vector128.Create((ushort)0x3800)) << 3) & ~zero);
    }
}
