using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Kernels;

/// <summary>
/// Packs the raw fields of float-split's uniform-width case for 16-bit elements: per value, the kept low mantissa
/// bits (<c>(v &amp; lowMask) &gt;&gt; drop</c>) shifted up by one when the sign is raw, with the sign in bit 0;
/// eight consecutive fields of <c>width</c> (1..8) bits fill exactly <c>width</c> bytes, least significant first.
/// <see cref="Assemble16"/> is the decoder's inverse: it rebuilds the values from their symbols' prefixes and the
/// packed fields. Each has a scalar reference and an AVX2 + BMI2 path that tests compare against it.
/// </summary>
internal static unsafe class FieldPacker
{
    /// <summary>Packs <c>8 * groups</c> values from <paramref name="source"/>; writes up to 8 bytes past the <c>width * groups</c> it fills.</summary>
    public static void Pack16(ushort* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
    {
        if (Avx2.IsSupported && Bmi2.X64.IsSupported && BitConverter.IsLittleEndian)
        {
            Pack16Avx2(source, groups, width, lowBits, drop, rawSign, destination);
        }
        else
        {
            Pack16Scalar(source, groups, width, lowBits, drop, rawSign, destination);
        }
    }

    /// <summary>Scalar reference for <see cref="Pack16"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack16Scalar(ushort* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
    {
        uint lowMask = (1u << lowBits) - 1;
        int keep = rawSign ? 1 : 0;
        for (int g = 0; g < groups; g++)
        {
            ulong word = 0;
            for (int v = 0; v < 8; v++)
            {
                uint x = BitConverter.IsLittleEndian ? source[(g * 8) + v] : BinaryPrimitives.ReverseEndianness(source[(g * 8) + v]);
                word |= (ulong)((((x & lowMask) >> drop) << keep) | ((x >> 15) & (uint)keep)) << (v * width);
            }

            *(ulong*)destination = BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word);
            destination += width;
        }
    }

    /// <summary>AVX2 + BMI2 path of <see cref="Pack16"/>: 32 fields computed in one vector pass, narrowed to bytes, then squeezed by PEXT.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack16Avx2(ushort* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
    {
        var lowMask = Vector256.Create((ushort)((1u << lowBits) - 1));
        int keep = rawSign ? 1 : 0;
        var signMask = Vector256.Create((ushort)keep);
        ulong byteMask = 0x0101010101010101UL * (ulong)((1 << width) - 1);
        int g = 0;
        for (; g + 4 <= groups; g += 4)
        {
            Vector256<ushort> a = Vector256.Load(source + (g * 8));
            Vector256<ushort> b = Vector256.Load(source + (g * 8) + 16);
            a = (((a & lowMask) >>> drop) << keep) | ((a >>> 15) & signMask);
            b = (((b & lowMask) >>> drop) << keep) | ((b >>> 15) & signMask);
            Vector256<ulong> fields = Vector256.Narrow(a, b).AsUInt64();
            *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(0), byteMask);
            destination += width;
            *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(1), byteMask);
            destination += width;
            *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(2), byteMask);
            destination += width;
            *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(3), byteMask);
            destination += width;
        }

        Pack16Scalar(source + (g * 8), groups - g, width, lowBits, drop, rawSign, destination);
    }

    /// <summary>
    /// Rebuilds <c>8 * groups</c> 16-bit values: value <c>i</c> = <c>prefixOf[symbols[i]]</c> OR its field from
    /// <paramref name="raw"/> (laid out as <see cref="Pack16"/> writes it) put back in place. Reads 8 bytes at each
    /// group's field offset, so the caller keeps <c>raw + width * (groups - 1) + 8</c> inside the stream.
    /// </summary>
    public static void Assemble16(byte* symbols, int groups, byte* raw, int width, uint* prefixOf, int drop, bool rawSign, ushort* destination)
    {
        if (Avx2.IsSupported && Bmi2.X64.IsSupported && BitConverter.IsLittleEndian)
        {
            Assemble16Avx2(symbols, groups, raw, width, prefixOf, drop, rawSign, destination);
        }
        else
        {
            Assemble16Scalar(symbols, groups, raw, width, prefixOf, drop, rawSign, destination);
        }
    }

    /// <summary>Scalar reference for <see cref="Assemble16"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Assemble16Scalar(byte* symbols, int groups, byte* raw, int width, uint* prefixOf, int drop, bool rawSign, ushort* destination)
    {
        int keep = rawSign ? 1 : 0;
        ulong mask = (1UL << width) - 1;
        for (int g = 0; g < groups; g++)
        {
            ulong fields = *(ulong*)(raw + (g * width));
            fields = BitConverter.IsLittleEndian ? fields : BinaryPrimitives.ReverseEndianness(fields);
            for (int v = 0; v < 8; v++)
            {
                uint r = (uint)(fields & mask);
                fields >>= width;
                uint value = prefixOf[symbols[(g * 8) + v]] | ((r >> keep) << drop) | ((r & (uint)keep) << 15);
                destination[(g * 8) + v] = BitConverter.IsLittleEndian ? (ushort)value : BinaryPrimitives.ReverseEndianness((ushort)value);
            }
        }
    }

    /// <summary>AVX2 + BMI2 path of <see cref="Assemble16"/>: sixteen values per step, fields spread by PDEP, prefixes gathered.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Assemble16Avx2(byte* symbols, int groups, byte* raw, int width, uint* prefixOf, int drop, bool rawSign, ushort* destination)
    {
        int keep = rawSign ? 1 : 0;
        var signMask = Vector256.Create((ushort)keep);
        ulong byteMask = 0x0101010101010101UL * (ulong)((1 << width) - 1);
        int g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            ulong low = Bmi2.X64.ParallelBitDeposit(*(ulong*)(raw + (g * width)), byteMask);
            ulong high = Bmi2.X64.ParallelBitDeposit(*(ulong*)(raw + ((g + 1) * width)), byteMask);
            Vector256<ushort> r = Avx2.ConvertToVector256Int16(Vector128.Create(low, high).AsByte()).AsUInt16();
            Vector256<ushort> fields = ((r >>> keep) << drop) | ((r & signMask) << 15);
            byte* s = symbols + (g * 8);
            Vector256<uint> p0 = Avx2.GatherVector256(prefixOf, Avx2.ConvertToVector256Int32(s), 4);
            Vector256<uint> p1 = Avx2.GatherVector256(prefixOf, Avx2.ConvertToVector256Int32(s + 8), 4);
            (Vector256.Narrow(p0, p1) | fields).Store(destination + (g * 8));
        }

        Assemble16Scalar(symbols + (g * 8), groups - g, raw + (g * width), width, prefixOf, drop, rawSign, destination + (g * 8));
    }
}
