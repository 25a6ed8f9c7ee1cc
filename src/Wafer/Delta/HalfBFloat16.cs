using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wafer.Delta;

/// <summary>
/// F16 and BF16 elements converted into each other by the rules of <see cref="BaseConversion"/> (through the F32 of
/// the value, rounded to nearest even), and the scan that finds an F16 chunk whose values are all BF16 values: an F16
/// model cast from a BF16 one (as many hub repositories hold) has three dead mantissa bits in every normal value,
/// which <c>delta-ord</c> would pay for in every changed element; it codes such a chunk as BF16 instead. Each kernel
/// has a Vector128 path (which AVX2 and NEON both accelerate) for the normal values and zeros, finishing the few
/// blocks with subnormals, infinities or NaNs by the scalar reference, which is always there and which tests compare
/// with it on all 65,536 patterns.
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

    /// <summary>Vector path of <see cref="AllBFloat16"/> (Vector128); needs at least one vector of little-endian elements.</summary>
    public static bool AllBFloat16Vector128(ReadOnlySpan<ushort> values)
    {
        ref ushort start = ref MemoryMarshal.GetReference(values);
        Vector128<ushort> any = Vector128<ushort>.Zero;
        int i = 0;
        for (; i + Vector128<ushort>.Count <= values.Length; i += Vector128<ushort>.Count)
        {
            any |= Dead(Vector128.LoadUnsafe(ref start, (nuint)i));

            // Most F16 chunks have live low bits from their first elements on: stop early, once per 256 elements.
            if ((i & 255) == 256 - Vector128<ushort>.Count && any != Vector128<ushort>.Zero)
            {
                return false;
            }
        }

        // The last, overlapping vector covers the tail.
        any |= Dead(Vector128.LoadUnsafe(ref start, (nuint)(values.Length - Vector128<ushort>.Count)));
        return any == Vector128<ushort>.Zero;
    }

    /// <summary>
    /// Each F16 element of <paramref name="halves"/> as BF16 (<see cref="BaseConversion.SingleBitsToBFloat16Bits"/> of
    /// its exact F32): rounded to nearest even, exact for BF16 values. Little-endian, as many elements.
    /// </summary>
    public static void RoundToBFloat16(ReadOnlySpan<byte> halves, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            RoundToBFloat16Vector128(halves, destination);
        }
        else
        {
            RoundToBFloat16Scalar(halves, destination);
        }
    }

    /// <summary>Scalar reference for <see cref="RoundToBFloat16"/>.</summary>
    public static void RoundToBFloat16Scalar(ReadOnlySpan<byte> halves, Span<byte> destination)
    {
        for (int i = 0; 2 * i < halves.Length; i++)
        {
            ushort half = BinaryPrimitives.ReadUInt16LittleEndian(halves[(2 * i)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], BaseConversion.SingleBitsToBFloat16Bits(BaseConversion.HalfBitsToSingleBits(half)));
        }
    }

    /// <summary>Vector path of <see cref="RoundToBFloat16"/> (Vector128, little-endian); the tail and the rare blocks it does not cover go through the scalar reference.</summary>
    public static void RoundToBFloat16Vector128(ReadOnlySpan<byte> halves, Span<byte> destination)
    {
        int count = halves.Length / 2;
        int lanes = Vector128<ushort>.Count;
        ref ushort from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(halves));
        ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
        int i = 0;
        for (; i + lanes <= count; i += lanes)
        {
            // Normal values: the 10-bit mantissa rounded to 7 (a carry moves into the exponent, as it should), the
            // exponent rebiased (15 → 127); zeros keep their sign. Anything else goes through the scalar rule.
            Vector128<ushort> h = Vector128.LoadUnsafe(ref from, (nuint)i);
            Vector128<ushort> magnitude = h & Vector128.Create((ushort)0x7FFF);
            Vector128<ushort> exponent = h & Vector128.Create((ushort)0x7C00);
            Vector128<ushort> rounded = ((magnitude + Vector128.Create((ushort)3) + ((magnitude >>> 3) & Vector128<ushort>.One)) >>> 3) + Vector128.Create((ushort)0x3800);
            Vector128<ushort> zero = Vector128.Equals(magnitude, Vector128<ushort>.Zero);
            Vector128<ushort> special = Vector128.Equals(exponent, Vector128<ushort>.Zero) | Vector128.Equals(exponent, Vector128.Create((ushort)0x7C00));
            if ((special & ~zero) != Vector128<ushort>.Zero)
            {
                RoundToBFloat16Scalar(halves.Slice(2 * i, 2 * lanes), destination.Slice(2 * i, 2 * lanes));
                continue;
            }

            ((h & Vector128.Create((ushort)0x8000)) | (rounded & ~zero)).StoreUnsafe(ref to, (nuint)i);
        }

        RoundToBFloat16Scalar(halves[(2 * i)..(2 * count)], destination[(2 * i)..]);
    }

    /// <summary>
    /// Each BF16 element of <paramref name="bf16"/> as F16 (<see cref="BaseConversion.SingleBitsToHalfBits"/> of its
    /// F32): rounded to nearest even, exact for the values F16 holds, so the inverse of <see cref="RoundToBFloat16"/>
    /// on elements that are <see cref="IsBFloat16"/>. Little-endian, as many elements.
    /// </summary>
    public static void RoundToHalf(ReadOnlySpan<byte> bf16, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            RoundToHalfVector128(bf16, destination);
        }
        else
        {
            RoundToHalfScalar(bf16, destination);
        }
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

    /// <summary>Vector path of <see cref="RoundToHalf"/> (Vector128, little-endian); the tail and the rare blocks it does not cover go through the scalar reference.</summary>
    public static void RoundToHalfVector128(ReadOnlySpan<byte> bf16, Span<byte> destination)
    {
        int count = bf16.Length / 2;
        int lanes = Vector128<ushort>.Count;
        ref ushort from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(bf16));
        ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
        int i = 0;
        for (; i + lanes <= count; i += lanes)
        {
            // Values in F16's normal range (BF16 exponents 113 to 142) lose no bits: rebias (127 → 15) and shift the
            // 7-bit mantissa up to 10; zeros keep their sign. Anything else goes through the scalar rule.
            Vector128<ushort> b = Vector128.LoadUnsafe(ref from, (nuint)i);
            Vector128<ushort> magnitude = b & Vector128.Create((ushort)0x7FFF);
            Vector128<ushort> zero = Vector128.Equals(magnitude, Vector128<ushort>.Zero);
            Vector128<ushort> normal = Vector128.LessThan(magnitude - Vector128.Create((ushort)0x3880), Vector128.Create((ushort)(0x4780 - 0x3880)));
            if (~(normal | zero) != Vector128<ushort>.Zero)
            {
                RoundToHalfScalar(bf16.Slice(2 * i, 2 * lanes), destination.Slice(2 * i, 2 * lanes));
                continue;
            }

            ((b & Vector128.Create((ushort)0x8000)) | (((magnitude - Vector128.Create((ushort)0x3800)) << 3) & ~zero)).StoreUnsafe(ref to, (nuint)i);
        }

        RoundToHalfScalar(bf16[(2 * i)..(2 * count)], destination[(2 * i)..]);
    }

    /// <summary>
    /// Non-zero lanes for F16 values that are not <see cref="IsBFloat16"/>. A normal value, infinity or NaN needs its
    /// low three mantissa bits zero (its F32 has them at bits 13 to 15), a NaN its quiet bit too; a subnormal m × 2^-24
    /// needs at most eight significant bits: bit 0 zero when its top bit is bit 8, bits 0 and 1 when it is bit 9.
    /// </summary>
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
}
