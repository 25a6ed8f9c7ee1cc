using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wafer.Delta;

/// <summary>
/// The high halves of 32-bit little-endian elements: an F32 whose low 16 bits are zero is exactly the BF16 in its
/// high half (a BF16 model cast up to F32). <c>delta-ord</c> codes such chunks as BF16, so that the 16 dead bits of
/// every changed value cost nothing. Each scan has a scalar reference, always there, and Vector256/Vector128 paths
/// that tests compare with it.
/// </summary>
internal static class HighHalves
{
    /// <summary>True when the low 16 bits of every 32-bit element of <paramref name="data"/> are zero (length a multiple of 4).</summary>
    public static bool LowHalvesZero(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(data);
        if (Vector256.IsHardwareAccelerated && words.Length >= Vector256<uint>.Count)
        {
            return LowHalvesZeroVector256(words);
        }

        if (Vector128.IsHardwareAccelerated && words.Length >= Vector128<uint>.Count)
        {
            return LowHalvesZeroVector128(words);
        }

        return LowHalvesZeroScalar(words);
    }

    /// <summary>Scalar reference for <see cref="LowHalvesZero"/>.</summary>
    public static bool LowHalvesZeroScalar(ReadOnlySpan<uint> words)
    {
        foreach (uint word in words)
        {
            if (((BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word)) & 0xFFFF) != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Vector256 path of <see cref="LowHalvesZero"/>; needs at least eight elements.</summary>
    public static bool LowHalvesZeroVector256(ReadOnlySpan<uint> words)
    {
        ref uint start = ref MemoryMarshal.GetReference(words);
        Vector256<uint> mask = Vector256.Create(LowMask());
        Vector256<uint> any = Vector256<uint>.Zero;
        int i = 0;
        for (; i + Vector256<uint>.Count <= words.Length; i += Vector256<uint>.Count)
        {
            any |= Vector256.LoadUnsafe(ref start, (nuint)i);

            // Most F32 chunks have live low bits from their first elements on: stop early, once per 256 elements.
            if ((i & 255) == 248 && (any & mask) != Vector256<uint>.Zero)
            {
                return false;
            }
        }

        // The last, overlapping vector covers the tail.
        any |= Vector256.LoadUnsafe(ref start, (nuint)(words.Length - Vector256<uint>.Count));
        return (any & mask) == Vector256<uint>.Zero;
    }

    /// <summary>Vector128 path of <see cref="LowHalvesZero"/>; needs at least four elements.</summary>
    public static bool LowHalvesZeroVector128(ReadOnlySpan<uint> words)
    {
        ref uint start = ref MemoryMarshal.GetReference(words);
        Vector128<uint> mask = Vector128.Create(LowMask());
        Vector128<uint> any = Vector128<uint>.Zero;
        int i = 0;
        for (; i + Vector128<uint>.Count <= words.Length; i += Vector128<uint>.Count)
        {
            any |= Vector128.LoadUnsafe(ref start, (nuint)i);
            if ((i & 255) == 252 && (any & mask) != Vector128<uint>.Zero)
            {
                return false;
            }
        }

        any |= Vector128.LoadUnsafe(ref start, (nuint)(words.Length - Vector128<uint>.Count));
        return (any & mask) == Vector128<uint>.Zero;
    }

    /// <summary>
    /// Writes the high 16 bits of each 32-bit element of <paramref name="source"/> as a 16-bit element of
    /// <paramref name="destination"/> (half its length), both little-endian.
    /// </summary>
    public static void Narrow(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<uint> words = MemoryMarshal.Cast<byte, uint>(source);
        Span<ushort> halves = MemoryMarshal.Cast<byte, ushort>(destination[..(source.Length / 2)]);
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            ref uint from = ref MemoryMarshal.GetReference(words);
            ref ushort to = ref MemoryMarshal.GetReference(halves);
            for (; i + (2 * Vector256<uint>.Count) <= words.Length; i += 2 * Vector256<uint>.Count)
            {
                Vector256<uint> low = Vector256.LoadUnsafe(ref from, (nuint)i) >>> 16;
                Vector256<uint> high = Vector256.LoadUnsafe(ref from, (nuint)(i + Vector256<uint>.Count)) >>> 16;
                Vector256.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            }
        }
        else if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            ref uint from = ref MemoryMarshal.GetReference(words);
            ref ushort to = ref MemoryMarshal.GetReference(halves);
            for (; i + (2 * Vector128<uint>.Count) <= words.Length; i += 2 * Vector128<uint>.Count)
            {
                Vector128<uint> low = Vector128.LoadUnsafe(ref from, (nuint)i) >>> 16;
                Vector128<uint> high = Vector128.LoadUnsafe(ref from, (nuint)(i + Vector128<uint>.Count)) >>> 16;
                Vector128.Narrow(low, high).StoreUnsafe(ref to, (nuint)i);
            }
        }

        NarrowScalar(source[(4 * i)..], destination[(2 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="Narrow"/>.</summary>
    public static void NarrowScalar(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; 4 * i < source.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], (ushort)(BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]) >> 16));
        }
    }

    /// <summary>
    /// Writes each 16-bit element of <paramref name="source"/> as the high half of a 32-bit element of
    /// <paramref name="destination"/> (twice its length) whose low half is zero; the inverse of <see cref="Narrow"/>
    /// for elements whose low halves are zero.
    /// </summary>
    public static void Widen(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<ushort> halves = MemoryMarshal.Cast<byte, ushort>(source);
        Span<uint> words = MemoryMarshal.Cast<byte, uint>(destination[..(source.Length * 2)]);
        int i = 0;
        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            ref ushort from = ref MemoryMarshal.GetReference(halves);
            ref uint to = ref MemoryMarshal.GetReference(words);
            for (; i + Vector256<ushort>.Count <= halves.Length; i += Vector256<ushort>.Count)
            {
                (Vector256<uint> low, Vector256<uint> high) = Vector256.Widen(Vector256.LoadUnsafe(ref from, (nuint)i));
                (low << 16).StoreUnsafe(ref to, (nuint)i);
                (high << 16).StoreUnsafe(ref to, (nuint)(i + Vector256<uint>.Count));
            }
        }
        else if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            ref ushort from = ref MemoryMarshal.GetReference(halves);
            ref uint to = ref MemoryMarshal.GetReference(words);
            for (; i + Vector128<ushort>.Count <= halves.Length; i += Vector128<ushort>.Count)
            {
                (Vector128<uint> low, Vector128<uint> high) = Vector128.Widen(Vector128.LoadUnsafe(ref from, (nuint)i));
                (low << 16).StoreUnsafe(ref to, (nuint)i);
                (high << 16).StoreUnsafe(ref to, (nuint)(i + Vector128<uint>.Count));
            }
        }

        WidenScalar(source[(2 * i)..], destination[(4 * i)..]);
    }

    /// <summary>Scalar reference for <see cref="Widen"/>.</summary>
    public static void WidenScalar(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; 2 * i < source.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 * i)..], (uint)BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
        }
    }

    private static uint LowMask() => BitConverter.IsLittleEndian ? 0xFFFFu : 0xFFFF0000u;
}
