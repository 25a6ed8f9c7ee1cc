using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wafer.Delta;

/// <summary>
/// F16 ↔ F32 by the rules of <see cref="BaseConversion"/> (F16 → F32 exact, F32 → F16 to nearest even), and the scan
/// for F32 chunks of F16 values: base conversion between the two, and <c>delta-ord</c>'s F32 chunks of F16 values
/// (an F16 model cast up). Vector256 and Vector128 paths (the lane arithmetic in one helper per width) cover F16's
/// normal range and zeros; the few lanes outside it go through the scalar rule, which is always there and which
/// tests compare with both widths.
/// </summary>
internal static class HalfSingle
{
    /// <summary>Each F16 element of <paramref name="halves"/> as the F32 of the same value (<see cref="BaseConversion.HalfBitsToSingleBits"/>).</summary>
    public static void Widen(ReadOnlySpan<byte> halves, Span<byte> singles) => Widen(halves, singles, Width());

    /// <summary><see cref="Widen(ReadOnlySpan{byte}, Span{byte})"/> with vectors of <paramref name="width"/> bits: 256, 128, or 0 for the scalar rule alone.</summary>
    public static void Widen(ReadOnlySpan<byte> halves, Span<byte> singles, int width)
    {
        int count = halves.Length / 2;
        ArgumentOutOfRangeException.ThrowIfLessThan(singles.Length, 4 * count, nameof(singles));
        if (!BitConverter.IsLittleEndian)
        {
            WidenScalar(halves, singles);
            return;
        }

        ref ushort from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(halves));
        ref uint to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(singles));
        int i = 0;
        for (; width == 256 && i + 16 <= count; i += 16)
        {
            (Vector256<uint> low, Vector256<uint> high) = Vector256.Widen(Vector256.LoadUnsafe(ref from, (nuint)i));
            Widen(low, out Vector256<uint> lowSpecial).StoreUnsafe(ref to, (nuint)i);
            Widen(high, out Vector256<uint> highSpecial).StoreUnsafe(ref to, (nuint)(i + 8));
            FixWidened(ref from, ref to, i, LaneBits(lowSpecial) | (LaneBits(highSpecial) << 8));
        }

        for (; width == 128 && i + 8 <= count; i += 8)
        {
            (Vector128<uint> low, Vector128<uint> high) = Vector128.Widen(Vector128.LoadUnsafe(ref from, (nuint)i));
            Widen(low, out Vector128<uint> lowSpecial).StoreUnsafe(ref to, (nuint)i);
            Widen(high, out Vector128<uint> highSpecial).StoreUnsafe(ref to, (nuint)(i + 4));
            FixWidened(ref from, ref to, i, LaneBits(lowSpecial) | (LaneBits(highSpecial) << 4));
        }

        WidenScalar(halves[(2 * i)..(2 * count)], singles[(4 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="Widen(ReadOnlySpan{byte}, Span{byte})"/>.</summary>
    public static void WidenScalar(ReadOnlySpan<byte> halves, Span<byte> singles)
    {
        for (int i = 0; (2 * i) + 1 < halves.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(singles[(4 * i)..], BaseConversion.HalfBitsToSingleBits(BinaryPrimitives.ReadUInt16LittleEndian(halves[(2 * i)..])));
        }
    }

    /// <summary>Each F32 element of <paramref name="singles"/> rounded to F16 (<see cref="BaseConversion.SingleBitsToHalfBits"/>).</summary>
    public static void Round(ReadOnlySpan<byte> singles, Span<byte> halves) => Round(singles, halves, Width());

    /// <summary><see cref="Round(ReadOnlySpan{byte}, Span{byte})"/> with vectors of <paramref name="width"/> bits: 256, 128, or 0 for the scalar rule alone.</summary>
    public static void Round(ReadOnlySpan<byte> singles, Span<byte> halves, int width)
    {
        int count = singles.Length / 4;
        ArgumentOutOfRangeException.ThrowIfLessThan(halves.Length, 2 * count, nameof(halves));
        if (!BitConverter.IsLittleEndian)
        {
            RoundScalar(singles, halves);
            return;
        }

        ref uint from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(singles));
        ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(halves));
        int i = 0;
        for (; width == 256 && i + 16 <= count; i += 16)
        {
            Vector256<uint> low = Round(Vector256.LoadUnsafe(ref from, (nuint)i), out Vector256<uint> lowSpecial);
            Vector256<uint> high = Round(Vector256.LoadUnsafe(ref from, (nuint)(i + 8)), out Vector256<uint> highSpecial);
            Vector256.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            FixRounded(ref from, ref to, i, LaneBits(lowSpecial) | (LaneBits(highSpecial) << 8));
        }

        for (; width == 128 && i + 8 <= count; i += 8)
        {
            Vector128<uint> low = Round(Vector128.LoadUnsafe(ref from, (nuint)i), out Vector128<uint> lowSpecial);
            Vector128<uint> high = Round(Vector128.LoadUnsafe(ref from, (nuint)(i + 4)), out Vector128<uint> highSpecial);
            Vector128.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            FixRounded(ref from, ref to, i, LaneBits(lowSpecial) | (LaneBits(highSpecial) << 4));
        }

        RoundScalar(singles[(4 * i)..(4 * count)], halves[(2 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="Round(ReadOnlySpan{byte}, Span{byte})"/>.</summary>
    public static void RoundScalar(ReadOnlySpan<byte> singles, Span<byte> halves)
    {
        for (int i = 0; (4 * i) + 3 < singles.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(halves[(2 * i)..], BaseConversion.SingleBitsToHalfBits(BinaryPrimitives.ReadUInt32LittleEndian(singles[(4 * i)..])));
        }
    }

    /// <summary>
    /// True when every F32 element of <paramref name="singles"/> is an F16 value that the F32 → F16 → F32 round trip
    /// gives back bit for bit (an F16 model cast up); most F32 chunks fail in their first vector.
    /// </summary>
    public static bool AllHalfValues(ReadOnlySpan<byte> singles) => AllHalfValues(singles, Width());

    /// <summary><see cref="AllHalfValues(ReadOnlySpan{byte})"/> with vectors of <paramref name="width"/> bits: 256, 128, or 0 for the scalar rule alone.</summary>
    public static bool AllHalfValues(ReadOnlySpan<byte> singles, int width)
    {
        int count = singles.Length / 4;
        if (!BitConverter.IsLittleEndian)
        {
            return AllHalfValuesScalar(singles);
        }

        ref uint from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(singles));
        int i = 0;
        for (; width == 256 && i + 8 <= count; i += 8)
        {
            if (!HalfValuesOrScalar(ref from, i, LaneBits(Special(Vector256.LoadUnsafe(ref from, (nuint)i)))))
            {
                return false;
            }
        }

        for (; width == 128 && i + 4 <= count; i += 4)
        {
            if (!HalfValuesOrScalar(ref from, i, LaneBits(Special(Vector128.LoadUnsafe(ref from, (nuint)i)))))
            {
                return false;
            }
        }

        return AllHalfValuesScalar(singles[(4 * i)..(4 * count)]);
    }

    /// <summary>Scalar reference for <see cref="AllHalfValues(ReadOnlySpan{byte})"/>.</summary>
    public static bool AllHalfValuesScalar(ReadOnlySpan<byte> singles)
    {
        for (int i = 0; (4 * i) + 3 < singles.Length; i++)
        {
            if (!IsHalfValue(BinaryPrimitives.ReadUInt32LittleEndian(singles[(4 * i)..])))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether F32 bits <paramref name="single"/> survive the F32 → F16 → F32 round trip.</summary>
    public static bool IsHalfValue(uint single) =>
        BaseConversion.HalfBitsToSingleBits(BaseConversion.SingleBitsToHalfBits(single)) == single;

    /// <summary>The widest vector this machine accelerates (256 or 128 bits), or 0 (scalar) on big-endian machines and without vectors.</summary>
    private static int Width() =>
        !BitConverter.IsLittleEndian ? 0 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// One bit per lane of a lane mask, and no more: the optimising JIT may compute a negated comparison's
    /// <c>ExtractMostSignificantBits</c> with bits set past the vector's lane count (seen on this machine for
    /// Vector128&lt;uint&gt;: 0xF4 for lane 2 alone), which would send the scalar fix-up past the block's end.
    /// </summary>
    private static uint LaneBits(Vector256<uint> mask) => mask.ExtractMostSignificantBits() & ((1u << Vector256<uint>.Count) - 1);

    /// <summary>The Vector128 twin of <see cref="LaneBits(Vector256{uint})"/>.</summary>
    private static uint LaneBits(Vector128<uint> mask) => mask.ExtractMostSignificantBits() & ((1u << Vector128<uint>.Count) - 1);

    /// <summary>The scalar rule for the widened lanes <paramref name="special"/> marks (subnormals, infinities, NaNs).</summary>
    private static void FixWidened(ref ushort from, ref uint to, int at, uint special)
    {
        for (; special != 0; special &= special - 1)
        {
            int lane = at + BitOperations.TrailingZeroCount(special);
            Unsafe.Add(ref to, lane) = BaseConversion.HalfBitsToSingleBits(Unsafe.Add(ref from, lane));
        }
    }

    /// <summary>The scalar rule for the rounded lanes <paramref name="special"/> marks (subnormal range, past F16's range, infinities, NaNs).</summary>
    private static void FixRounded(ref uint from, ref ushort to, int at, uint special)
    {
        for (; special != 0; special &= special - 1)
        {
            int lane = at + BitOperations.TrailingZeroCount(special);
            Unsafe.Add(ref to, lane) = BaseConversion.SingleBitsToHalfBits(Unsafe.Add(ref from, lane));
        }
    }

    /// <summary>Whether every lane <paramref name="special"/> marks is an F16 value by the scalar rule (the others are, by the vector test).</summary>
    private static bool HalfValuesOrScalar(ref uint from, int at, uint special)
    {
        for (; special != 0; special &= special - 1)
        {
            if (!IsHalfValue(Unsafe.Add(ref from, at + BitOperations.TrailingZeroCount(special))))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// F16 → F32 for lanes of normal values (the exponent rebiased, 15 → 127, and the mantissa shifted up 13 bits) and
    /// zeros (their sign kept); <paramref name="special"/> marks the lanes that hold anything else.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Widen(Vector256<uint> h, out Vector256<uint> special)
    {
        Vector256<uint> magnitude = h & Vector256.Create(0x7FFFu);
        Vector256<uint> exponent = h & Vector256.Create(0x7C00u);
        Vector256<uint> zero = Vector256.Equals(magnitude, Vector256<uint>.Zero);
        special = (Vector256.Equals(exponent, Vector256<uint>.Zero) | Vector256.Equals(exponent, Vector256.Create(0x7C00u))) & ~zero;
        return ((h & Vector256.Create(0x8000u)) << 16) | (((magnitude << 13) + Vector256.Create(0x38000000u)) & ~zero);
    }

    /// <summary>The Vector128 twin of <see cref="Widen(Vector256{uint}, out Vector256{uint})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Widen(Vector128<uint> h, out Vector128<uint> special)
    {
        Vector128<uint> magnitude = h & Vector128.Create(0x7FFFu);
        Vector128<uint> exponent = h & Vector128.Create(0x7C00u);
        Vector128<uint> zero = Vector128.Equals(magnitude, Vector128<uint>.Zero);
        special = (Vector128.Equals(exponent, Vector128<uint>.Zero) | Vector128.Equals(exponent, Vector128.Create(0x7C00u))) & ~zero;
        return ((h & Vector128.Create(0x8000u)) << 16) | (((magnitude << 13) + Vector128.Create(0x38000000u)) & ~zero);
    }

    /// <summary>
    /// F32 → F16 (in the low 16 bits of each lane) for lanes in F16's normal range (rebias and round the 13 dropped bits
    /// to nearest even; a carry moves to the next binade, up to infinity from 65520) and below half the smallest
    /// subnormal (the sign alone); <paramref name="special"/> marks the lanes that hold anything else.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Round(Vector256<uint> x, out Vector256<uint> special)
    {
        Vector256<uint> magnitude = x & Vector256.Create(0x7FFFFFFFu);
        Vector256<uint> normal = Vector256.LessThan(magnitude - Vector256.Create(0x38800000u), Vector256.Create(0x47800000u - 0x38800000u));
        Vector256<uint> tiny = Vector256.LessThan(magnitude, Vector256.Create(0x33000000u));
        special = ~(normal | tiny);
        Vector256<uint> rounded = (magnitude - Vector256.Create(0x38000000u) + Vector256.Create(0xFFFu) + ((magnitude >>> 13) & Vector256<uint>.One)) >>> 13;
        return ((x >>> 16) & Vector256.Create(0x8000u)) | (rounded & normal);
    }

    /// <summary>The Vector128 twin of <see cref="Round(Vector256{uint}, out Vector256{uint})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Round(Vector128<uint> x, out Vector128<uint> special)
    {
        Vector128<uint> magnitude = x & Vector128.Create(0x7FFFFFFFu);
        Vector128<uint> normal = Vector128.LessThan(magnitude - Vector128.Create(0x38800000u), Vector128.Create(0x47800000u - 0x38800000u));
        Vector128<uint> tiny = Vector128.LessThan(magnitude, Vector128.Create(0x33000000u));
        special = ~(normal | tiny);
        Vector128<uint> rounded = (magnitude - Vector128.Create(0x38000000u) + Vector128.Create(0xFFFu) + ((magnitude >>> 13) & Vector128<uint>.One)) >>> 13;
        return ((x >>> 16) & Vector128.Create(0x8000u)) | (rounded & normal);
    }

    /// <summary>
    /// Non-zero lanes for F32 values the vector test cannot vouch for as F16 values: anything but zeros and values in
    /// F16's normal range whose 13 low mantissa bits are zero (those always survive the round trip).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Special(Vector256<uint> x)
    {
        Vector256<uint> magnitude = x & Vector256.Create(0x7FFFFFFFu);
        Vector256<uint> normal = Vector256.LessThan(magnitude - Vector256.Create(0x38800000u), Vector256.Create(0x47800000u - 0x38800000u))
            & Vector256.Equals(x & Vector256.Create(0x1FFFu), Vector256<uint>.Zero);
        return ~(normal | Vector256.Equals(magnitude, Vector256<uint>.Zero));
    }

    /// <summary>The Vector128 twin of <see cref="Special(Vector256{uint})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Special(Vector128<uint> x)
    {
        Vector128<uint> magnitude = x & Vector128.Create(0x7FFFFFFFu);
        Vector128<uint> normal = Vector128.LessThan(magnitude - Vector128.Create(0x38800000u), Vector128.Create(0x47800000u - 0x38800000u))
            & Vector128.Equals(x & Vector128.Create(0x1FFFu), Vector128<uint>.Zero);
        return ~(normal | Vector128.Equals(magnitude, Vector128<uint>.Zero));
    }
}
