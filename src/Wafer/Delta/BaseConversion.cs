using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Wafer.Codecs.Kernels;

namespace Wafer.Delta;

/// <summary>
/// Base tensors of another float dtype than their target (a fine-tune saved in F32 from a BF16 or F16 base, a model
/// cast down to BF16 or F16 from F32, an F16 copy of a BF16 model): the base elements are converted to the target's
/// dtype and the target is coded against them like any base. BF16 and F16 widen to F32 exactly; F32 narrows to BF16
/// or F16 rounded to nearest, ties to even, as frameworks cast (a model cast down from its base then matches it
/// element for element); BF16 and F16 convert to each other through F32 (<see cref="HalfBFloat16"/>). docs/PATCH.md
/// specifies each rule bit for bit; the F32 → BF16 rounding has a Vector256/Vector128 path and its scalar reference,
/// F16 ↔ F32 theirs in <see cref="HalfSingle"/>.
/// </summary>
internal static class BaseConversion
{
    /// <summary>Whether a target tensor of <paramref name="target"/> elements may be coded against base elements of <paramref name="base"/>.</summary>
    public static bool Supports(DType @base, DType target) =>
        @base == target || (@base is DType.BF16 or DType.F16 or DType.F32 && target is DType.BF16 or DType.F16 or DType.F32);

    /// <summary>
    /// The one rule writer and reader share: a base tensor is converted when its dtype name differs from the target's,
    /// the pair converts (<see cref="Supports"/>) and the target is not a rename (<paramref name="change"/>
    /// <c>renamed</c>: the same bytes under another name or dtype, coded against the base bytes as they are, as patches
    /// always have been).
    /// </summary>
    public static bool Converts(string baseDtype, string targetDtype, string? change, out DType @base, out DType target)
    {
        bool known = DTypes.TryParse(baseDtype, out @base) & DTypes.TryParse(targetDtype, out target);
        return known && change != "renamed" && baseDtype != targetDtype && DTypes.IsFloat(@base) && DTypes.IsFloat(target) && Supports(@base, target);
    }

    /// <summary>
    /// Converts the base elements <paramref name="source"/> to <paramref name="target"/> elements in
    /// <paramref name="destination"/> (as many elements; a pair <see cref="Supports"/> accepts).
    /// </summary>
    public static void Convert(ReadOnlySpan<byte> source, DType @base, Span<byte> destination, DType target)
    {
        switch ((@base, target))
        {
            case (DType.BF16, DType.F32):
                HighHalves.Widen(source, destination);
                break;
            case (DType.F16, DType.F32):
                HalfSingle.Widen(source, destination);
                break;
            case (DType.F32, DType.BF16):
                RoundToBFloat16(source, destination);
                break;
            case (DType.F32, DType.F16):
                HalfSingle.Round(source, destination);
                break;
            case (DType.BF16, DType.F16):
                HalfBFloat16.RoundToHalf(source, destination);
                break;
            case (DType.F16, DType.BF16):
                HalfBFloat16.RoundToBFloat16(source, destination);
                break;
            default:
                if (@base != target)
                {
                    throw new ArgumentException($"{DTypes.Name(@base)} base elements do not convert to {DTypes.Name(target)}", nameof(target));
                }

                source.CopyTo(destination);
                break;
        }
    }

    /// <summary>The F32 bits of the value of F16 bits <paramref name="half"/>.</summary>
    public static uint HalfBitsToSingleBits(ushort half)
    {
        uint sign = (uint)(half >> 15) << 31;
        uint exponent = (uint)(half >> 10) & 0x1F;
        uint mantissa = half & 0x3FFu;
        if (exponent == 0x1F)
        {
            return sign | 0x7F800000 | (mantissa << 13);
        }

        if (exponent != 0)
        {
            return sign | ((exponent + 112) << 23) | (mantissa << 13);
        }

        if (mantissa == 0)
        {
            return sign;
        }

        // Subnormal: m × 2^-24 with the leading one of m at bit p is 2^(p - 24) × 1.f.
        int p = 31 - System.Numerics.BitOperations.LeadingZeroCount(mantissa);
        return sign | ((uint)(p + 103) << 23) | ((mantissa << (23 - p)) & 0x7FFFFF);
    }

    /// <summary>
    /// The F16 bits of F32 bits <paramref name="single"/> rounded to nearest, ties to even: values from 65520 up become
    /// infinities, values below 2^-14 subnormals (or zeros); a NaN keeps its sign and top 10 payload bits and gets the
    /// quiet bit (0x0200), as IEEE conversions do.
    /// </summary>
    public static ushort SingleBitsToHalfBits(uint single)
    {
        uint sign = (single >> 16) & 0x8000;
        uint magnitude = single & 0x7FFFFFFF;
        if (magnitude > 0x7F800000)
        {
            return (ushort)(sign | 0x7E00 | ((magnitude >> 13) & 0x3FF));
        }

        if (magnitude >= 0x47800000)
        {
            return (ushort)(sign | 0x7C00);
        }

        if (magnitude >= 0x38800000)
        {
            // Normal: rebias the exponent (127 → 15) and round the 13 dropped bits to nearest even; a carry out of the
            // mantissa moves to the next binade, up to infinity (0x7C00) from 65520.
            uint rounded = magnitude - 0x38000000 + 0xFFF + ((magnitude >> 13) & 1);
            return (ushort)(sign | (rounded >> 13));
        }

        int exponent = (int)(magnitude >> 23);
        if (exponent < 102)
        {
            return (ushort)sign;
        }

        // Subnormal: the value in units of 2^-24 is the 24-bit significand shifted right by 126 - exponent (14..24).
        uint significand = (magnitude & 0x7FFFFF) | 0x800000;
        int shift = 126 - exponent;
        uint result = significand >> shift;
        uint rest = significand & ((1u << shift) - 1);
        uint half = 1u << (shift - 1);
        if (rest > half || (rest == half && (result & 1) != 0))
        {
            result++;
        }

        return (ushort)(sign | result);
    }

    /// <summary>
    /// Each F32 element rounded to BF16: to nearest, ties to even (a finite value past the largest BF16 becomes
    /// infinity); a NaN keeps its sign and top 7 payload bits and gets the quiet bit (0x0040).
    /// </summary>
    public static void RoundToBFloat16(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int count = source.Length / 4;
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            ref uint from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(source));
            ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
            for (; i + (2 * Vector256<uint>.Count) <= count; i += 2 * Vector256<uint>.Count)
            {
                Vector256<uint> low = Round(Vector256.LoadUnsafe(ref from, (nuint)i));
                Vector256<uint> high = Round(Vector256.LoadUnsafe(ref from, (nuint)(i + Vector256<uint>.Count)));
                Vector256.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            }
        }
        else if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            ref uint from = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(source));
            ref ushort to = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, ushort>(destination));
            for (; i + (2 * Vector128<uint>.Count) <= count; i += 2 * Vector128<uint>.Count)
            {
                Vector128<uint> low = Round(Vector128.LoadUnsafe(ref from, (nuint)i));
                Vector128<uint> high = Round(Vector128.LoadUnsafe(ref from, (nuint)(i + Vector128<uint>.Count)));
                Vector128.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            }
        }

        RoundToBFloat16Scalar(source[(4 * i)..], destination[(2 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="RoundToBFloat16"/>.</summary>
    public static void RoundToBFloat16Scalar(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; 4 * i < source.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], SingleBitsToBFloat16Bits(BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..])));
        }
    }

    /// <summary>The BF16 bits <see cref="RoundToBFloat16"/> gives for F32 bits <paramref name="single"/>.</summary>
    public static ushort SingleBitsToBFloat16Bits(uint single) =>
        (single & 0x7FFFFFFF) > 0x7F800000
            ? (ushort)((single >> 16) | 0x0040)
            : (ushort)((single + 0x7FFF + ((single >> 16) & 1)) >> 16);

    private static Vector256<uint> Round(Vector256<uint> x)
    {
        Vector256<uint> nan = Vector256.GreaterThan(x & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        Vector256<uint> rounded = (x + Vector256.Create(0x7FFFu) + ((x >>> 16) & Vector256<uint>.One)) >>> 16;
        return Vector256.ConditionalSelect(nan, (x >>> 16) | Vector256.Create(0x0040u), rounded);
    }

    private static Vector128<uint> Round(Vector128<uint> x)
    {
        Vector128<uint> nan = Vector128.GreaterThan(x & Vector128.Create(0x7FFFFFFFu), Vector128.Create(0x7F800000u));
        Vector128<uint> rounded = (x + Vector128.Create(0x7FFFu) + ((x >>> 16) & Vector128<uint>.One)) >>> 16;
        return Vector128.ConditionalSelect(nan, (x >>> 16) | Vector128.Create(0x0040u), rounded);
    }
}
