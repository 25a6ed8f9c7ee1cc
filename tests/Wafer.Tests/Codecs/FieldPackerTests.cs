using System.Runtime.Intrinsics.X86;
using CsCheck;
using Wafer.Codecs.Kernels;

namespace Wafer.Tests.Codecs;

/// <summary>float-split's uniform-width raw field kernels: vector paths against scalar references, and packing then assembling.</summary>
[Trait("Category", "Kernels")]
public sealed unsafe class FieldPackerTests
{
    [Fact]
    public void Vector_and_scalar_field_packers_agree()
    {
        Gen.Int[1, 8].Select(Gen.Int[0, 7], Gen.Bool, Gen.Int[0, 50], Gen.Int).Sample((width, drop, rawSign, groups, seed) =>
        {
            int lowBits = width - (rawSign ? 1 : 0) + drop;
            if (lowBits > 15 || width - (rawSign ? 1 : 0) < 0)
            {
                return;
            }

            var rng = new Random(seed);
            ushort[] values = new ushort[groups * 8];
            for (int i = 0; i < values.Length; i++)
            {
                // Low dropped bits zero, as float-split guarantees.
                values[i] = (ushort)(rng.Next(1 << 16) & ~((1 << drop) - 1));
            }

            byte[] scalar = new byte[(groups * width) + 8];
            byte[] vector = new byte[(groups * width) + 8];
            fixed (ushort* v = values)
            fixed (byte* s = scalar)
            fixed (byte* d = vector)
            {
                FieldPacker.Pack16Scalar(v, groups, width, lowBits, drop, rawSign, s);
                if (Avx2.IsSupported && Bmi2.X64.IsSupported)
                {
                    FieldPacker.Pack16Avx2(v, groups, width, lowBits, drop, rawSign, d);
                    Assert.Equal(scalar.AsSpan(0, groups * width).ToArray(), vector.AsSpan(0, groups * width).ToArray());
                }
            }
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Vector_and_scalar_32_bit_field_packers_agree()
    {
        // Drops up to 23 bits: an F32 chunk of BF16 values keeps its fields above bit 16.
        Gen.Int[1, 8].Select(Gen.Int[0, 23], Gen.Bool, Gen.Int[0, 50], Gen.Int).Sample((width, drop, rawSign, groups, seed) =>
        {
            int lowBits = width - (rawSign ? 1 : 0) + drop;
            if (lowBits > 31 || width - (rawSign ? 1 : 0) < 0)
            {
                return;
            }

            var rng = new Random(seed);
            uint[] values = new uint[groups * 8];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (uint)rng.NextInt64(1L << 32) & ~((1u << drop) - 1);
            }

            byte[] scalar = new byte[(groups * width) + 8];
            byte[] vector = new byte[(groups * width) + 8];
            fixed (uint* v = values)
            fixed (byte* s = scalar)
            fixed (byte* d = vector)
            {
                FieldPacker.Pack32Scalar(v, groups, width, lowBits, drop, rawSign, s);
                for (int i = 0; i < values.Length; i++)
                {
                    // The scalar reference packs what each value's field is by definition.
                    uint x = values[i];
                    uint field = (((x & (uint)((1UL << lowBits) - 1)) >> drop) << (rawSign ? 1 : 0)) | (rawSign ? x >> 31 : 0);
                    int bit = i * width;
                    uint packed = (uint)((scalar[bit / 8] | (scalar[(bit / 8) + 1] << 8)) >> (bit % 8)) & (uint)((1 << width) - 1);
                    Assert.Equal(field, packed);
                }

                if (Avx2.IsSupported && Bmi2.X64.IsSupported)
                {
                    FieldPacker.Pack32Avx2(v, groups, width, lowBits, drop, rawSign, d);
                    Assert.Equal(scalar.AsSpan(0, groups * width).ToArray(), vector.AsSpan(0, groups * width).ToArray());
                }
            }
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Assembling_packed_fields_restores_the_values_on_every_path()
    {
        // Alphabets on both sides of 128, the VBMI path's one-table limit; group counts on both sides of its step of 8.
        int[] alphabets = [1, 2, 37, 64, 128, 129, 200, 256];
        Gen.Int[1, 8].Select(Gen.Int[0, 7], Gen.Bool, Gen.Int[0, 50], Gen.Int, Gen.Int[0, alphabets.Length - 1]).Sample((width, drop, rawSign, groups, seed, alphabetIndex) =>
        {
            int alphabet = alphabets[alphabetIndex];
            int mantissaBits = width - (rawSign ? 1 : 0);
            int lowBits = mantissaBits + drop;
            if (lowBits > 15 || mantissaBits < 0)
            {
                return;
            }

            // Values = a prefix above the low bits (per symbol) | kept bits | zero dropped bits | sign.
            var rng = new Random(seed);
            uint[] prefixOf = new uint[alphabet];
            for (int a = 0; a < alphabet; a++)
            {
                prefixOf[a] = (uint)(rng.Next(1 << 16) & ~((1 << lowBits) - 1) & 0x7FFF) | (rawSign ? 0u : (uint)(a & 1) << 15);
            }

            byte[] symbols = new byte[groups * 8];
            ushort[] values = new ushort[groups * 8];
            for (int i = 0; i < values.Length; i++)
            {
                symbols[i] = (byte)rng.Next(alphabet);
                uint kept = (uint)rng.Next(1 << mantissaBits) << drop;
                uint sign = rawSign ? (uint)rng.Next(2) << 15 : 0;
                values[i] = (ushort)(prefixOf[symbols[i]] | kept | sign);
            }

            byte[] raw = new byte[(groups * width) + 8];
            byte[] prefixBytes = new byte[FieldPacker.PrefixBytesLength];
            ushort[] scalar = new ushort[values.Length];
            ushort[] vector = new ushort[values.Length];
            fixed (ushort* v = values)
            fixed (byte* r = raw)
            fixed (byte* s = symbols)
            fixed (byte* pb = prefixBytes)
            fixed (uint* p = prefixOf)
            fixed (ushort* sd = scalar)
            fixed (ushort* vd = vector)
            {
                FieldPacker.Pack16(v, groups, width, lowBits, drop, rawSign, r);
                FieldPacker.SplitPrefixes(p, alphabet, pb);
                FieldPacker.Assemble16Scalar(s, groups, r, width, p, drop, rawSign, sd);
                Assert.Equal(values, scalar);
                if (Avx2.IsSupported && Bmi2.X64.IsSupported)
                {
                    FieldPacker.Assemble16Avx2(s, groups, r, width, p, drop, rawSign, vd);
                    Assert.Equal(values, vector);
                }

                if (Avx512Vbmi.IsSupported && Bmi2.X64.IsSupported)
                {
                    Array.Clear(vector);
                    FieldPacker.Assemble16Vbmi(s, groups, r, width, p, pb, alphabet, drop, rawSign, vd);
                    Assert.Equal(values, vector);
                }

                Array.Clear(vector);
                FieldPacker.Assemble16(s, groups, r, width, p, pb, alphabet, drop, rawSign, vd);
                Assert.Equal(values, vector);
            }
        }, iter: 600, threads: 1);
    }
}
