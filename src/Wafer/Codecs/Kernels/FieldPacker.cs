using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Wafer.Codecs.Fields;

namespace Wafer.Codecs.Kernels;

/// <summary>
/// Packs the raw fields of float-split's uniform-width case for 16-bit elements: per value, the kept low mantissa
/// bits (<c>(v &amp; lowMask) &gt;&gt; drop</c>) shifted up by one when the sign is raw, with the sign in bit 0;
/// eight consecutive fields of <c>width</c> (1..8) bits fill exactly <c>width</c> bytes, least significant first.
/// <see cref="Assemble16"/> is the decoder's inverse: it rebuilds the values from their symbols' prefixes and the
/// packed fields. Each has a scalar reference and an AVX2 + BMI2 path that tests compare against it; assembling also
/// has an AVX-512 VBMI path.
/// </summary>
internal static unsafe class FieldPacker
{

    /// <summary>
    /// Packs <c>8 * groups</c> elements of <typeparamref name="TE"/> (sign in their top bit): <see cref="Pack16"/> and
    /// <see cref="Pack32"/> for 16- and 32-bit elements, the scalar packer for the others. Writes up to 8 bytes past
    /// the <c>width * groups</c> it fills.
    /// </summary>
    public static void Pack<TE>(byte* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
        where TE : struct, IElementAccess
    {
        if (TE.Size == 2)
        {
            Pack16((ushort*)source, groups, width, lowBits, drop, rawSign, destination);
        }
        else if (TE.Size == 4)
        {
            Pack32((uint*)source, groups, width, lowBits, drop, rawSign, destination);
        }
        else
        {
            PackScalar<TE>(source, groups, width, lowBits, drop, rawSign, destination);
        }
    }

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
    public static void Pack16Scalar(ushort* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination) =>
        PackScalar<Element16>((byte*)source, groups, width, lowBits, drop, rawSign, destination);

    /// <summary>The scalar packer for elements of <typeparamref name="TE"/>, whose sign is their top bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackScalar<TE>(byte* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
        where TE : struct, IElementAccess
    {
        ulong lowMask = (1UL << lowBits) - 1;
        int keep = rawSign ? 1 : 0;
        int signShift = (TE.Size * 8) - 1;
        for (int g = 0; g < groups; g++)
        {
            ulong word = 0;
            for (int v = 0; v < 8; v++)
            {
                ulong x = TE.Load(source, (g * 8) + v);
                word |= ((((x & lowMask) >> drop) << keep) | ((x >> signShift) & (ulong)keep)) << (v * width);
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
            destination = Squeeze(Vector256.Narrow(a, b).AsUInt64(), byteMask, width, destination);
        }

        Pack16Scalar(source + (g * 8), groups - g, width, lowBits, drop, rawSign, destination);
    }

    /// <summary>
    /// <see cref="Pack16"/> for 32-bit elements (an F32 chunk of BF16 or F16 values keeps at most 8 raw bits): the
    /// sign is bit 31. Writes up to 8 bytes past the <c>width * groups</c> it fills.
    /// </summary>
    public static void Pack32(uint* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
    {
        if (Avx2.IsSupported && Bmi2.X64.IsSupported && BitConverter.IsLittleEndian)
        {
            Pack32Avx2(source, groups, width, lowBits, drop, rawSign, destination);
        }
        else
        {
            Pack32Scalar(source, groups, width, lowBits, drop, rawSign, destination);
        }
    }

    /// <summary>Scalar reference for <see cref="Pack32"/>.</summary>
    public static void Pack32Scalar(uint* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination) =>
        PackScalar<Element32>((byte*)source, groups, width, lowBits, drop, rawSign, destination);

    /// <summary>AVX2 + BMI2 path of <see cref="Pack32"/>: 32 fields computed in four vectors, narrowed to bytes, then squeezed by PEXT.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack32Avx2(uint* source, int groups, int width, int lowBits, int drop, bool rawSign, byte* destination)
    {
        var lowMask = Vector256.Create((uint)((1UL << lowBits) - 1));
        int keep = rawSign ? 1 : 0;
        var signMask = Vector256.Create((uint)keep);
        ulong byteMask = 0x0101010101010101UL * (ulong)((1 << width) - 1);
        int g = 0;
        for (; g + 4 <= groups; g += 4)
        {
            uint* v = source + (g * 8);
            Vector256<uint> a = Field32(Vector256.Load(v), lowMask, drop, keep, signMask);
            Vector256<uint> b = Field32(Vector256.Load(v + 8), lowMask, drop, keep, signMask);
            Vector256<uint> c = Field32(Vector256.Load(v + 16), lowMask, drop, keep, signMask);
            Vector256<uint> d = Field32(Vector256.Load(v + 24), lowMask, drop, keep, signMask);
            destination = Squeeze(Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d)).AsUInt64(), byteMask, width, destination);
        }

        Pack32Scalar(source + (g * 8), groups - g, width, lowBits, drop, rawSign, destination);
    }

    /// <summary>Writes four groups of eight byte-wide fields, each squeezed by PEXT to <paramref name="width"/> bytes.</summary>
    /// <returns>The position after the fourth group.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Squeeze(Vector256<ulong> fields, ulong byteMask, int width, byte* destination)
    {
        *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(0), byteMask);
        destination += width;
        *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(1), byteMask);
        destination += width;
        *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(2), byteMask);
        destination += width;
        *(ulong*)destination = Bmi2.X64.ParallelBitExtract(fields.GetElement(3), byteMask);
        return destination + width;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Field32(Vector256<uint> x, Vector256<uint> lowMask, int drop, int keep, Vector256<uint> signMask) =>
        (((x & lowMask) >>> drop) << keep) | ((x >>> 31) & signMask);

    /// <summary>
    /// Rebuilds <c>8 * groups</c> 16-bit values: value <c>i</c> = <c>prefixOf[symbols[i]]</c> OR its field from
    /// <paramref name="raw"/> (laid out as <see cref="Pack16"/> writes it) put back in place. Reads 8 bytes at each
    /// group's field offset, so the caller keeps <c>raw + width * (groups - 1) + 8</c> inside the stream. Every
    /// symbol is below <paramref name="alphabet"/>, the number of entries of <paramref name="prefixOf"/>;
    /// <paramref name="prefixBytes"/> holds them split by <see cref="SplitPrefixes"/>.
    /// </summary>
    public static void Assemble16(byte* symbols, int groups, byte* raw, int width, uint* prefixOf, byte* prefixBytes, int alphabet, int drop, bool rawSign, ushort* destination)
    {
        if (Avx512Vbmi.IsSupported && Bmi2.X64.IsSupported && BitConverter.IsLittleEndian)
        {
            Assemble16Vbmi(symbols, groups, raw, width, prefixOf, prefixBytes, alphabet, drop, rawSign, destination);
        }
        else if (Avx2.IsSupported && Bmi2.X64.IsSupported && BitConverter.IsLittleEndian)
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

    /// <summary>Bytes of the tables <see cref="SplitPrefixes"/> fills.</summary>
    public const int PrefixBytesLength = 512;

    /// <summary>
    /// Splits <paramref name="prefixOf"/> (<paramref name="alphabet"/> 16-bit prefixes, at most 256) into the byte
    /// tables the VBMI assembler looks up: 256 low bytes, then 256 high bytes, zero past the alphabet.
    /// </summary>
    public static void SplitPrefixes(uint* prefixOf, int alphabet, byte* prefixBytes)
    {
        for (int a = 0; a < 256; a++)
        {
            uint prefix = a < alphabet ? prefixOf[a] : 0;
            prefixBytes[a] = (byte)prefix;
            prefixBytes[256 + a] = (byte)(prefix >> 8);
        }
    }

    /// <summary>
    /// AVX-512 VBMI + BMI2 path of <see cref="Assemble16"/>: sixty-four values per step, each prefix's low and high
    /// byte looked up by byte permutes over two 64-byte tables (VPERMI2B: 128 entries), instead of gathered; alphabets
    /// of more than 128 symbols take a second pair of tables for symbols 128..255 and a select.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Assemble16Vbmi(byte* symbols, int groups, byte* raw, int width, uint* prefixOf, byte* prefixBytes, int alphabet, int drop, bool rawSign, ushort* destination)
    {
        byte* lowBytes = prefixBytes;
        byte* highBytes = prefixBytes + 256;
        Vector512<byte> low0 = Vector512.Load(lowBytes);
        Vector512<byte> low1 = Vector512.Load(lowBytes + 64);
        Vector512<byte> low2 = Vector512.Load(lowBytes + 128);
        Vector512<byte> low3 = Vector512.Load(lowBytes + 192);
        Vector512<byte> high0 = Vector512.Load(highBytes);
        Vector512<byte> high1 = Vector512.Load(highBytes + 64);
        Vector512<byte> high2 = Vector512.Load(highBytes + 128);
        Vector512<byte> high3 = Vector512.Load(highBytes + 192);
        bool wide = alphabet > 128;

        // The in-lane unpacks give the values of each 128-bit lane's low and high eight bytes; these put them in order.
        Vector512<ulong> firstHalf = Vector512.Create(0UL, 1, 8, 9, 2, 3, 10, 11);
        Vector512<ulong> secondHalf = Vector512.Create(4UL, 5, 12, 13, 6, 7, 14, 15);
        int keep = rawSign ? 1 : 0;
        var signMask = Vector512.Create((ushort)keep);
        ulong byteMask = 0x0101010101010101UL * (ulong)((1 << width) - 1);
        int g = 0;
        for (; g + 8 <= groups; g += 8)
        {
            Vector512<byte> s = Vector512.Load(symbols + (g * 8));
            Vector512<byte> low = Avx512Vbmi.PermuteVar64x8x2(low0, s, low1);
            Vector512<byte> high = Avx512Vbmi.PermuteVar64x8x2(high0, s, high1);
            if (wide)
            {
                Vector512<byte> upper = Vector512.GreaterThanOrEqual(s, Vector512.Create((byte)128));
                low = Vector512.ConditionalSelect(upper, Avx512Vbmi.PermuteVar64x8x2(low2, s, low3), low);
                high = Vector512.ConditionalSelect(upper, Avx512Vbmi.PermuteVar64x8x2(high2, s, high3), high);
            }

            Vector512<ulong> lowHalves = Avx512BW.UnpackLow(low, high).AsUInt64();
            Vector512<ulong> highHalves = Avx512BW.UnpackHigh(low, high).AsUInt64();
            Vector512<ushort> prefixes0 = Avx512F.PermuteVar8x64x2(lowHalves, firstHalf, highHalves).AsUInt16();
            Vector512<ushort> prefixes1 = Avx512F.PermuteVar8x64x2(lowHalves, secondHalf, highHalves).AsUInt16();

            byte* r = raw + (g * width);
            Vector256<ulong> first = Vector256.Create(
                Bmi2.X64.ParallelBitDeposit(*(ulong*)r, byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + width), byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (2 * width)), byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (3 * width)), byteMask));
            Vector256<ulong> second = Vector256.Create(
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (4 * width)), byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (5 * width)), byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (6 * width)), byteMask),
                Bmi2.X64.ParallelBitDeposit(*(ulong*)(r + (7 * width)), byteMask));
            Vector512<ushort> r0 = Avx512BW.ConvertToVector512UInt16(first.AsByte());
            Vector512<ushort> r1 = Avx512BW.ConvertToVector512UInt16(second.AsByte());
            (prefixes0 | ((r0 >>> keep) << drop) | ((r0 & signMask) << 15)).Store(destination + (g * 8));
            (prefixes1 | ((r1 >>> keep) << drop) | ((r1 & signMask) << 15)).Store(destination + (g * 8) + 32);
        }

        Assemble16Avx2(symbols + (g * 8), groups - g, raw + (g * width), width, prefixOf, drop, rawSign, destination + (g * 8));
    }
}
