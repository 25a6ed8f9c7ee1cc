using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wafer.Codecs.Kernels;

/// <summary>
/// Whole-chunk scans the selector runs before choosing a codec: constant detection and zero counting. Each has a
/// scalar reference that is always there, and Vector256/Vector128 paths that tests compare against it.
/// </summary>
internal static class ChunkKernels
{
    /// <summary>True when every element of <paramref name="data"/> equals the first (element size 1, 2, 4 or 8).</summary>
    public static bool IsConstant(ReadOnlySpan<byte> data, int elementSize)
    {
        if (Vector256.IsHardwareAccelerated && data.Length >= Vector256<byte>.Count)
        {
            return IsConstantVector256(data, elementSize);
        }

        if (Vector128.IsHardwareAccelerated && data.Length >= Vector128<byte>.Count)
        {
            return IsConstantVector128(data, elementSize);
        }

        return IsConstantScalar(data, elementSize);
    }

    /// <summary>Scalar reference for <see cref="IsConstant"/>.</summary>
    public static bool IsConstantScalar(ReadOnlySpan<byte> data, int elementSize)
    {
        if (data.Length <= elementSize)
        {
            return true;
        }

        ReadOnlySpan<byte> first = data[..elementSize];
        for (int i = elementSize; i + elementSize <= data.Length; i += elementSize)
        {
            if (!data.Slice(i, elementSize).SequenceEqual(first))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Vector256 path of <see cref="IsConstant"/>; needs at least 32 bytes.</summary>
    public static bool IsConstantVector256(ReadOnlySpan<byte> data, int elementSize)
    {
        // The first 32 bytes must already be the first element repeated; every later block must equal them.
        if (!IsConstantScalar(data[..Vector256<byte>.Count], elementSize))
        {
            return false;
        }

        Vector256<byte> pattern = Vector256.Create(data);
        int i = Vector256<byte>.Count;
        for (; i + Vector256<byte>.Count <= data.Length; i += Vector256<byte>.Count)
        {
            if (Vector256.Create(data[i..]) != pattern)
            {
                return false;
            }
        }

        // The tail is compared as the last full vector, which is aligned to the element size because 32 is.
        int tail = data.Length - Vector256<byte>.Count;
        return i == data.Length || Vector256.Create(data[(tail - (tail % elementSize))..]) == pattern;
    }

    /// <summary>Vector128 path of <see cref="IsConstant"/>; needs at least 16 bytes.</summary>
    public static bool IsConstantVector128(ReadOnlySpan<byte> data, int elementSize)
    {
        if (!IsConstantScalar(data[..Vector128<byte>.Count], elementSize))
        {
            return false;
        }

        Vector128<byte> pattern = Vector128.Create(data);
        int i = Vector128<byte>.Count;
        for (; i + Vector128<byte>.Count <= data.Length; i += Vector128<byte>.Count)
        {
            if (Vector128.Create(data[i..]) != pattern)
            {
                return false;
            }
        }

        int tail = data.Length - Vector128<byte>.Count;
        return i == data.Length || Vector128.Create(data[(tail - (tail % elementSize))..]) == pattern;
    }

    /// <summary>Number of elements whose bytes are all zero (element size 1, 2, 4 or 8; trailing partial element ignored).</summary>
    public static int CountZeroElements(ReadOnlySpan<byte> data, int elementSize)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            return CountZeroElementsVector256(data, elementSize);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            return CountZeroElementsVector128(data, elementSize);
        }

        return CountZeroElementsScalar(data, elementSize);
    }

    /// <summary>Scalar reference for <see cref="CountZeroElements"/>.</summary>
    public static int CountZeroElementsScalar(ReadOnlySpan<byte> data, int elementSize)
    {
        int count = 0;
        for (int i = 0; i + elementSize <= data.Length; i += elementSize)
        {
            count += data.Slice(i, elementSize).ContainsAnyExcept((byte)0) ? 0 : 1;
        }

        return count;
    }

    /// <summary>Vector256 path of <see cref="CountZeroElements"/>.</summary>
    public static int CountZeroElementsVector256(ReadOnlySpan<byte> data, int elementSize) => elementSize switch
    {
        1 => CountZeros256(data),
        2 => CountZeros256(MemoryMarshal.Cast<byte, ushort>(data)),
        4 => CountZeros256(MemoryMarshal.Cast<byte, uint>(data)),
        _ => CountZeros256(MemoryMarshal.Cast<byte, ulong>(data)),
    };

    /// <summary>Vector128 path of <see cref="CountZeroElements"/>.</summary>
    public static int CountZeroElementsVector128(ReadOnlySpan<byte> data, int elementSize) => elementSize switch
    {
        1 => CountZeros128(data),
        2 => CountZeros128(MemoryMarshal.Cast<byte, ushort>(data)),
        4 => CountZeros128(MemoryMarshal.Cast<byte, uint>(data)),
        _ => CountZeros128(MemoryMarshal.Cast<byte, ulong>(data)),
    };

    private static int CountZeros256<T>(ReadOnlySpan<T> values)
        where T : unmanaged, INumber<T>
    {
        int count = 0;
        int i = 0;
        for (; i + Vector256<T>.Count <= values.Length; i += Vector256<T>.Count)
        {
            count += BitOperations.PopCount(Vector256.Equals(Vector256.Create(values[i..]), Vector256<T>.Zero).ExtractMostSignificantBits());
        }

        for (; i < values.Length; i++)
        {
            count += values[i] == T.Zero ? 1 : 0;
        }

        return count;
    }

    private static int CountZeros128<T>(ReadOnlySpan<T> values)
        where T : unmanaged, INumber<T>
    {
        int count = 0;
        int i = 0;
        for (; i + Vector128<T>.Count <= values.Length; i += Vector128<T>.Count)
        {
            count += BitOperations.PopCount(Vector128.Equals(Vector128.Create(values[i..]), Vector128<T>.Zero).ExtractMostSignificantBits());
        }

        for (; i < values.Length; i++)
        {
            count += values[i] == T.Zero ? 1 : 0;
        }

        return count;
    }
}
