using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Wafer.Codecs;
using Wafer.Delta;

namespace Wafer.Tests.Delta;

/// <summary>
/// The delta codecs' fast loops against references written from the spec (docs/PATCH.md), element by element through
/// the encoder's generic <see cref="ContextTokenEncoder.Add"/>. CI runs this class again with hardware intrinsics off,
/// so both the vector and the scalar path of <see cref="OrderedResiduals16"/> are checked.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class DeltaKernelTests
{
    private static readonly DType[] s_floatTypes = [DType.BF16, DType.F16, DType.F32, DType.F8E4M3, DType.F8E5M2];

    private static readonly int[] s_counts = [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4097, 70_001];

    public static TheoryData<int> Counts()
    {
        // The fixed sizes, and sizes around the vector width of this machine, whatever it is.
        var data = new TheoryData<int>();
        foreach (int count in s_counts.Concat([Vector<ushort>.Count - 1, Vector<ushort>.Count + 1, (3 * Vector<ushort>.Count) + 2]).Distinct())
        {
            data.Add(count);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vectorised_16_bit_residuals_match_the_scalar_reference(int count)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F16 })
        {
            (byte[] b, byte[] t) = Pair(dtype, count, count);
            Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
            for (int layout = OrderedDeltaCodec.FullLayout; layout <= OrderedDeltaCodec.SingleContextLayout; layout++)
            {
                OrderedResiduals16.ContextWeights weights = OrderedDeltaCodec.Weights(f, f.Anchor(b), layout);
                uint[] residuals = new uint[count], expectedResiduals = new uint[count];
                ushort[] symbols = new ushort[count], expectedSymbols = new ushort[count];
                OrderedResiduals16.Compute(t, b, weights, residuals, symbols);
                OrderedResiduals16.ComputeScalar(t, b, weights, expectedResiduals, expectedSymbols);
                Assert.Equal(expectedResiduals, residuals);
                Assert.Equal(expectedSymbols, symbols);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void High_halves_narrow_widen_and_scan_like_their_scalar_references(int count)
    {
        var random = new Random(count);
        byte[] words = new byte[count * 4];
        random.NextBytes(words);
        byte[] halves = new byte[count * 2], expectedHalves = new byte[count * 2];
        HighHalves.Narrow(words, halves);
        HighHalves.NarrowScalar(words, expectedHalves);
        Assert.Equal(expectedHalves, halves);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(words[(4 * i) + 2], halves[2 * i]);
            Assert.Equal(words[(4 * i) + 3], halves[(2 * i) + 1]);
        }

        byte[] widened = new byte[count * 4], expectedWidened = new byte[count * 4];
        HighHalves.Widen(halves, widened);
        HighHalves.WidenScalar(halves, expectedWidened);
        Assert.Equal(expectedWidened, widened);
        Assert.True(HighHalves.LowHalvesZero(widened));
        Assert.True(HighHalves.LowHalvesZeroScalar(MemoryMarshal.Cast<byte, uint>(widened)));

        // One live bit anywhere in a low half, the last element's included, is seen by every path.
        for (int i = 0; i < count; i += 1 + (count / 7))
        {
            foreach (int at in new[] { i, count - 1 })
            {
                byte[] live = (byte[])widened.Clone();
                live[(4 * at) + (at % 2)] |= (byte)(1 << (at % 8));
                Assert.False(HighHalves.LowHalvesZero(live));
                Assert.False(HighHalves.LowHalvesZeroScalar(MemoryMarshal.Cast<byte, uint>(live)));
                if (count >= 8 && Vector256.IsHardwareAccelerated)
                {
                    Assert.False(HighHalves.LowHalvesZeroVector256(MemoryMarshal.Cast<byte, uint>(live)));
                }

                if (count >= 4 && Vector128.IsHardwareAccelerated)
                {
                    Assert.False(HighHalves.LowHalvesZeroVector128(MemoryMarshal.Cast<byte, uint>(live)));
                }
            }
        }
    }

    /// <summary>
    /// F16 → F32 on all 65,536 patterns, and F32 → F16 and the F16-value scan on every widened pattern, its neighbours
    /// one ulp and one rounding tie away, the edges of F16's range and random words: each vector width gives what the
    /// scalar rule gives, lane by lane.
    /// </summary>
    [Fact]
    public void Half_and_single_convert_and_scan_like_the_scalar_rules_on_every_width()
    {
        byte[] halves = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2 * i), (ushort)i);
        }

        byte[] widenedScalar = new byte[65536 * 4];
        HalfSingle.WidenScalar(halves, widenedScalar);
        var singles = new List<uint>();
        for (int i = 0; i < 65536; i++)
        {
            uint single = BinaryPrimitives.ReadUInt32LittleEndian(widenedScalar.AsSpan(4 * i));
            singles.AddRange([single, single + 1, single - 1, single + 0x1000, single - 0x1000, single + 0x2000]);
        }

        var random = new Random(11);
        singles.AddRange([0x38800000, 0x387FFFFF, 0x33000000, 0x32FFFFFF, 0x477FEFFF, 0x477FF000, 0x47800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001]);
        singles.AddRange(Enumerable.Range(0, 200_000).Select(_ => (uint)random.NextInt64(1L << 32)));
        byte[] words = new byte[singles.Count * 4];
        for (int i = 0; i < singles.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(words.AsSpan(4 * i), singles[i]);
        }

        byte[] roundedScalar = new byte[singles.Count * 2];
        HalfSingle.RoundScalar(words, roundedScalar);
        foreach (int width in Widths())
        {
            byte[] widened = new byte[widenedScalar.Length];
            HalfSingle.Widen(halves, widened, width);
            Assert.Equal(widenedScalar, widened);
            byte[] rounded = new byte[roundedScalar.Length];
            HalfSingle.Round(words, rounded, width);
            Assert.Equal(roundedScalar, rounded);
        }

        // The scan, one word in one lane of a block of 1.0s (which, by the word's index).
        uint[] block = new uint[16];
        for (int i = 0; i < singles.Count; i += 7)
        {
            Array.Fill(block, 0x3F800000u);
            block[i % 16] = singles[i];
            byte[] bytes = MemoryMarshal.AsBytes(block.AsSpan()).ToArray();
            bool expected = HalfSingle.IsHalfValue(singles[i]);
            Assert.Equal(expected, HalfSingle.AllHalfValuesScalar(bytes));
            foreach (int width in Widths())
            {
                Assert.Equal(expected, HalfSingle.AllHalfValues(bytes, width));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Half_and_single_convert_and_scan_like_the_scalar_rules_at_every_size(int count)
    {
        var random = new Random(count);
        byte[] halves = new byte[count * 2];
        random.NextBytes(halves);
        for (int i = 0; i < count; i++)
        {
            // Signalling NaNs do not survive F32 → F16 (it quiets them); every other pattern does.
            ushort half = BinaryPrimitives.ReadUInt16LittleEndian(halves.AsSpan(2 * i));
            if ((half & 0x7C00) == 0x7C00 && (half & 0x3FF) != 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2 * i), (ushort)(half | 0x200));
            }
        }

        byte[] singlesScalar = new byte[count * 4];
        HalfSingle.WidenScalar(halves, singlesScalar);
        Assert.True(HalfSingle.AllHalfValuesScalar(singlesScalar));
        foreach (int width in Widths())
        {
            byte[] singles = new byte[count * 4], back = new byte[count * 2];
            HalfSingle.Widen(halves, singles, width);
            Assert.Equal(singlesScalar, singles);
            HalfSingle.Round(singles, back, width);
            Assert.Equal(halves, back);
            Assert.True(HalfSingle.AllHalfValues(singles, width));

            // One value with a mantissa bit F16 lacks anywhere, the last element's included, is seen.
            for (int i = 0; i < count; i += 1 + (count / 7))
            {
                foreach (int at in new[] { i, count - 1 })
                {
                    byte[] live = (byte[])singles.Clone();
                    live[4 * at] ^= (byte)(1 << (at % 8));
                    Assert.False(HalfSingle.AllHalfValues(live, width));
                }
            }
        }
    }

    /// <summary>
    /// The fix-up of special lanes stays inside the span at every tier of the JIT (the optimised code once reported lane
    /// bits past a Vector128's four): the span's last vector holds a subnormal, the words after the span are not F16
    /// values, and the bytes after each destination must stay untouched, over enough calls for the runtime to promote
    /// the kernels.
    /// </summary>
    [Fact]
    public void Half_and_single_kernels_stay_inside_their_spans_once_optimised()
    {
        const int Count = 64;
        uint[] words = new uint[Count + 16];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = i < Count ? 0x3F800000u + ((uint)i << 13) : 0x3F800001u;
        }

        words[Count - 2] = 0x37160000u;
        byte[] singles = MemoryMarshal.AsBytes(words.AsSpan()).ToArray();
        byte[] halves = new byte[(Count + 16) * 2];
        HalfSingle.RoundScalar(singles.AsSpan(0, Count * 4), halves);
        for (int call = 0; call < 2000; call++)
        {
            foreach (int width in Widths())
            {
                Assert.True(HalfSingle.AllHalfValues(singles.AsSpan(0, Count * 4), width));
                byte[] rounded = new byte[halves.Length];
                rounded.AsSpan(Count * 2).Fill(0xA5);
                HalfSingle.Round(singles.AsSpan(0, Count * 4), rounded, width);
                Assert.True(rounded.AsSpan(Count * 2).IndexOfAnyExcept((byte)0xA5) < 0);
                byte[] widened = new byte[singles.Length];
                widened.AsSpan(Count * 4).Fill(0xA5);
                HalfSingle.Widen(halves.AsSpan(0, Count * 2), widened, width);
                Assert.True(widened.AsSpan(Count * 4).IndexOfAnyExcept((byte)0xA5) < 0);
                Assert.Equal(singles.AsSpan(0, Count * 4).ToArray(), widened.AsSpan(0, Count * 4).ToArray());
            }
        }
    }

    /// <summary>The scalar rule (0) and each vector width this machine accelerates (kernels taking a width argument).</summary>
    internal static IEnumerable<int> Widths()
    {
        yield return 0;
        if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            yield return 128;
        }

        if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
        {
            yield return 256;
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Rounding_F32_to_bf16_is_round_to_nearest_even_on_every_path(int count)
    {
        // Random words, and the cases rounding gets wrong: ties both ways, the largest finite values, NaNs, ±0, ±inf.
        uint[] specials = [0x3F808000, 0x3F818000, 0x3F807FFF, 0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7F800001, 0xFFC12345, 0x7FFFFFFF, 0, 0x80000000, 0x00008000, 0x00018000, 0x80007FFF];
        var random = new Random(count);
        byte[] source = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(source.AsSpan(4 * i), random.Next(3) == 0 ? specials[random.Next(specials.Length)] : (uint)random.NextInt64());
        }

        byte[] rounded = new byte[count * 2], expected = new byte[count * 2];
        BaseConversion.RoundToBFloat16(source, rounded);
        BaseConversion.RoundToBFloat16Scalar(source, expected);
        Assert.Equal(expected, rounded);
        for (int i = 0; i < count; i++)
        {
            uint x = BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(4 * i));
            Assert.Equal(NearestEven(x), BinaryPrimitives.ReadUInt16LittleEndian(rounded.AsSpan(2 * i)));
        }

        // Rounding to nearest by distance, independently of the bit trick: of the two BF16 values around x (the one
        // towards zero and the next one out, which past the largest finite value stands for 2^128, i.e. infinity),
        // the closer; on a tie, the one with an even last bit.
        static ushort NearestEven(uint x)
        {
            if ((x & 0x7FFFFFFF) > 0x7F800000)
            {
                return (ushort)((x >> 16) | 0x40);
            }

            ushort inward = (ushort)(x >> 16);
            if ((x & 0xFFFF) == 0)
            {
                return inward;
            }

            ushort outward = (ushort)(inward + 1);
            double value = Math.Abs((double)BitConverter.UInt32BitsToSingle(x));
            double below = Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)inward << 16));
            double above = (outward & 0x7FFF) == 0x7F80 ? Math.ScaleB(1.0, 128) : Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)outward << 16));
            double toBelow = value - below, toAbove = above - value;
            return toBelow < toAbove || (toBelow == toAbove && (inward & 1) == 0) ? inward : outward;
        }
    }

    [Fact]
    public void Rounding_F32_to_F16_matches_the_ieee_conversion()
    {
        // Every exponent from F32 zeros and subnormals through the F16 subnormal, normal and overflow ranges to NaNs,
        // each with random mantissas, the ties between neighbours, and both signs: against .NET's (Half) cast.
        var random = new Random(5);
        var values = new List<uint>();
        for (uint exponent = 0; exponent < 256; exponent++)
        {
            foreach (uint mantissa in new uint[] { 0, 1, 0x1000, 0x0FFF, 0x1FFF, 0x2000, 0x3000, 0x7FFFFF, 0x7FF000, 0x7FE000, 0x400000 })
            {
                values.Add((exponent << 23) | mantissa);
            }

            for (int k = 0; k < 200; k++)
            {
                values.Add((exponent << 23) | (uint)random.Next(1 << 23));
            }
        }

        values.AddRange([0x477FEFFF, 0x477FF000, 0x477FF001, 0x33000000, 0x33000001, 0x337FFFFF, 0x33800000, 0x38800000, 0x387FFFFF, 0x387FF000]);
        byte[] source = new byte[8 * values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(source.AsSpan(8 * i), values[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(source.AsSpan((8 * i) + 4), values[i] | 0x80000000);
        }

        byte[] rounded = new byte[source.Length / 2];
        BaseConversion.Convert(source, DType.F32, rounded, DType.F16);
        for (int i = 0; i < source.Length / 4; i++)
        {
            uint x = BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(4 * i));
            ushort expected = BitConverter.HalfToUInt16Bits((Half)BitConverter.UInt32BitsToSingle(x));
            Assert.True(expected == BinaryPrimitives.ReadUInt16LittleEndian(rounded.AsSpan(2 * i)), $"{x:X8}: expected {expected:X4}");
        }
    }

    [Fact]
    public void Widening_F16_to_F32_is_exact_for_every_pattern()
    {
        byte[] halves = new byte[2 * 65536];
        for (int h = 0; h < 65536; h++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2 * h), (ushort)h);
        }

        byte[] singles = new byte[4 * 65536];
        BaseConversion.Convert(halves, DType.F16, singles, DType.F32);
        for (int h = 0; h < 65536; h++)
        {
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(singles.AsSpan(4 * h));
            Half half = BitConverter.UInt16BitsToHalf((ushort)h);
            if (Half.IsNaN(half))
            {
                // NaNs keep their sign and payload, shifted up to the F32 mantissa's top.
                Assert.Equal(((uint)(h >> 15) << 31) | 0x7F800000u | ((uint)(h & 0x3FF) << 13), bits);
            }
            else
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits((float)half), bits);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vectorised_32_bit_residuals_match_the_scalar_reference(int count)
    {
        (byte[] b, byte[] t) = Pair(DType.F32, count, count);
        Assert.True(FloatFields.TryGet(DType.F32, out FloatFields f));
        for (int layout = OrderedDeltaCodec.FullLayout; layout <= OrderedDeltaCodec.SingleContextLayout; layout++)
        {
            OrderedResiduals16.ContextWeights weights = OrderedDeltaCodec.Weights(f, f.Anchor(b), layout);
            uint[] extras = new uint[count], expectedExtras = new uint[count];
            byte[] extraCounts = new byte[count], expectedCounts = new byte[count];
            ushort[] symbols = new ushort[count], expectedSymbols = new ushort[count];
            OrderedResiduals32.Compute(t, b, weights, extras, extraCounts, symbols);
            OrderedResiduals32.ComputeScalar(t, b, weights, expectedExtras, expectedCounts, expectedSymbols);
            Assert.Equal(expectedSymbols, symbols);
            Assert.Equal(expectedCounts, extraCounts);
            Assert.Equal(expectedExtras, extras);
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vectorised_xor_fields_match_the_scalar_reference(int count)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F16, DType.F32 })
        {
            (byte[] b, byte[] t) = Pair(dtype, count, count + 3);
            Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
            int anchor = f.Anchor(b);
            ushort[] symbols = new ushort[2 * count], expectedSymbols = new ushort[2 * count];
            uint[] extras = new uint[count], expectedExtras = new uint[count];
            byte[] extraCounts = new byte[count], expectedCounts = new byte[count];
            if (f.Width == 4)
            {
                XorFields.Compute<Width32>(t, b, f, anchor, symbols, extras, extraCounts);
                XorFields.ComputeScalar<Width32>(t, b, f, anchor, expectedSymbols, expectedExtras, expectedCounts);
            }
            else
            {
                XorFields.Compute<Width16>(t, b, f, anchor, symbols, extras, extraCounts);
                XorFields.ComputeScalar<Width16>(t, b, f, anchor, expectedSymbols, expectedExtras, expectedCounts);
            }

            Assert.Equal(expectedSymbols, symbols);
            Assert.Equal(expectedCounts, extraCounts);
            Assert.Equal(expectedExtras, extras);
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vector_residual_reader_matches_the_scalar_reader_and_stops_at_the_same_bit(int count)
    {
        // Tokens of the 16-bit alphabet with their extra bits, as a delta-ord stream holds them; a little slack at the
        // end so that the vector loop stops early and the scalar loop finishes. Elements 24 to 47 all take the most extra
        // bits (13), so eight fields span the most bits the vector loop allows for.
        var random = new Random(count + 7);
        byte[] tokens = new byte[count];
        var writer = new List<byte>();
        ulong buffer = 0;
        int held = 0;
        for (int i = 0; i < count; i++)
        {
            uint z = i is >= 24 and < 48 ? 65535u - (uint)random.Next(16384)
                : random.Next(4) switch { 0 => 0u, 1 => (uint)random.Next(32), 2 => (uint)random.Next(1024), _ => (uint)random.Next(65536) };
            tokens[i] = (byte)ValueTokens.Token(z, out int extraBits);
            buffer |= (ulong)(z & ((1u << extraBits) - 1)) << held;
            for (held += extraBits; held >= 8; held -= 8)
            {
                writer.Add((byte)buffer);
                buffer >>= 8;
            }
        }

        writer.Add((byte)buffer);
        byte[] bits = [.. writer];
        ushort[] expected = new ushort[count + 1];
        ushort[] actual = new ushort[count + 1];
        fixed (byte* t = tokens)
        fixed (byte* b = bits)
        fixed (uint* baseValues = ValueTokens.BaseValues)
        fixed (byte* extraBitCounts = ValueTokens.ExtraBitCounts)
        fixed (ushort* e = expected)
        fixed (ushort* a = actual)
        {
            long scalarAt = 0;
            int scalarDone = OrderedDecodeKernels.Residuals16(t, 0, count, b, bits.Length, ref scalarAt, baseValues, extraBitCounts, e);
            long vectorAt = 0;
            int vectorDone = Avx2.IsSupported ? OrderedDecodeKernels.Residuals16Avx2(t, count, b, bits.Length, ref vectorAt, a) : 0;
            Assert.Equal(0, vectorDone % 8);
            vectorDone = OrderedDecodeKernels.Residuals16(t, vectorDone, count, b, bits.Length, ref vectorAt, baseValues, extraBitCounts, a);
            Assert.Equal(scalarDone, vectorDone);
            Assert.Equal(scalarAt, vectorAt);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Packed_residuals_hold_the_extra_bits_and_their_count()
    {
        foreach (uint z in new uint[] { 0, 1, 31, 32, 33, 63, 64, 1000, 32767, 65535 })
        {
            int token = ValueTokens.Token(z, out int extraBits);
            uint packed = OrderedResiduals16.Pack(z);
            Assert.Equal((uint)extraBits, (packed >> 16) & 31);
            Assert.Equal(z, ValueTokens.Value(token, packed & 0xFFFF));
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vectorised_anchor_matches_the_scalar_reference(int count)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F16, DType.F32 })
        {
            (byte[] b, _) = Pair(dtype, count, count + 4);
            Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
            Assert.Equal(Scalar(f, b), f.Anchor(b));

            // Infinities and NaNs never set the anchor, wherever they sit.
            for (int i = 0; i < count; i += 3)
            {
                Write(b, i, f.Width, dtype switch { DType.BF16 => 0x7FC0, DType.F16 => 0xFC00, _ => 0xFF800000 });
            }

            Assert.Equal(Scalar(f, b), f.Anchor(b));
        }

        static int Scalar(FloatFields f, byte[] b) => f.Width == 4 ? f.AnchorScalar<Width32>(b) : f.AnchorScalar<Width16>(b);
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Vectorised_16_bit_rebuild_matches_the_scalar_reference_and_inverts_the_residuals(int count)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F16 })
        {
            (byte[] b, byte[] t) = Pair(dtype, count, count + 3);
            Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
            ushort[] residuals = new ushort[count];
            for (int i = 0; i < count; i++)
            {
                residuals[i] = (ushort)f.ZigZag((f.ToOrdered(f.Read(t, i)) - f.ToOrdered(f.Read(b, i))) & f.ValueMask);
            }

            // Every residual value, not only the ones a near target gives.
            var random = new Random(count);
            ushort[] wild = [.. residuals.Select(z => random.Next(4) == 0 ? (ushort)random.Next(65536) : z)];
            byte[] rebuilt = new byte[t.Length], expected = new byte[t.Length];
            OrderedResiduals16.Rebuild(b, wild, rebuilt);
            OrderedResiduals16.RebuildScalar(b, wild, expected);
            Assert.Equal(expected, rebuilt);

            OrderedResiduals16.Rebuild(b, residuals, rebuilt);
            Assert.Equal(t, rebuilt);
        }
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Ordered_delta_payload_equals_the_spec_reference_and_decodes(int count)
    {
        foreach (DType dtype in s_floatTypes)
        {
            (byte[] b, byte[] t) = Pair(dtype, count, count + 1);
            byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
            int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(dtype, b), payload);
            Assert.True(length >= 2);
            byte[] expected = ReferenceOrdered(dtype, b, t, payload[1]);
            Assert.Equal(expected, payload.AsSpan(0, length).ToArray());

            byte[] decoded = new byte[t.Length];
            OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, b), decoded);
            Assert.Equal(t, decoded);
        }
    }

    /// <summary>
    /// Known answers for long (32-lane) streams, and for four-lane ones long enough to code with several contexts (the
    /// shorter streams above take one). CI runs this class with and without hardware intrinsics, so the AVX2 encoder and
    /// decoder and their scalar references must all produce and accept these exact bytes.
    /// </summary>
    [Theory]
    [InlineData(DType.BF16, 70_001, "b0e627f7635b20c4e8741a64a04e7c0f570031cc941ee5faaaa46c38f494f252")]
    [InlineData(DType.F32, 70_001, "01b32bc2a921f5d9ce60fb1c7e0fdafb2ec046aa7bb9ab0e041285cb82bff4ca")]
    [InlineData(DType.F16, 131_075, "e024c36f28dd836235fbeb3a5016bd1e3fe10378f467f40de4cff2dd3181669d")]
    [InlineData(DType.BF16, 40_001, "3e5afcffa8b0c31c54e5b6c7264a9814e74057c945f486a587798b76c32ad6cc")]
    [InlineData(DType.F32, 40_001, "568fe1408e61bd10ca17a178633875623b42a5decfb7b87639183f5fc43d05bd")]
    public void Long_ordered_delta_payloads_match_their_known_answers(DType dtype, int count, string sha256)
    {
        (byte[] b, byte[] t) = Pair(dtype, count, 2026);
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(dtype, b), payload);
        Assert.Equal(sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload.AsSpan(0, length))));
        byte[] decoded = new byte[t.Length];
        OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, b), decoded);
        Assert.Equal(t, decoded);
    }

    [Theory]
    [MemberData(nameof(Counts))]
    public void Xor_delta_payload_equals_the_spec_reference(int count)
    {
        foreach (DType dtype in s_floatTypes)
        {
            (byte[] b, byte[] t) = Pair(dtype, count, count + 2);
            byte[] payload = new byte[(t.Length * 3) + CodecSelector.Slack];
            int length = XorFieldDeltaCodec.Instance.Encode(t, new ChunkContext(dtype, b), payload);
            Assert.Equal(ReferenceXor(dtype, b, t), payload.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void Layout_estimates_from_one_collection_equal_collecting_each_layout()
    {
        (byte[] b, byte[] t) = Pair(DType.BF16, 20_000, 5);
        Assert.True(FloatFields.TryGet(DType.BF16, out FloatFields f));
        var full = new ContextTokenEncoder();
        Collect(full, f, b, t, f.Anchor(b), OrderedDeltaCodec.FullLayout);
        for (int layout = OrderedDeltaCodec.FullLayout; layout <= OrderedDeltaCodec.SingleContextLayout; layout++)
        {
            var own = new ContextTokenEncoder();
            Collect(own, f, b, t, f.Anchor(b), layout);
            Assert.Equal(own.EstimateBytes(), full.EstimateBytes(OrderedDeltaCodec.LayoutContextMask(layout)));
        }
    }

    /// <summary><c>delta-ord</c> exactly as docs/PATCH.md states it, one <see cref="ContextTokenEncoder.Add"/> per element.</summary>
    private static byte[] ReferenceOrdered(DType dtype, byte[] b, byte[] t, int layout)
    {
        Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
        int anchor = f.Anchor(b);
        var encoder = new ContextTokenEncoder();
        Collect(encoder, f, b, t, anchor, layout);
        byte[] output = new byte[(t.Length * 2) + CodecSelector.Slack];
        output[0] = (byte)(layout == OrderedDeltaCodec.SingleContextLayout ? 0 : anchor);
        output[1] = (byte)layout;
        int written = encoder.Write(output.AsSpan(2));
        Assert.True(written >= 0);
        return output.AsSpan(0, written + 2).ToArray();
    }

    private static void Collect(ContextTokenEncoder encoder, in FloatFields f, byte[] b, byte[] t, int anchor, int layout)
    {
        int count = t.Length / f.Width;
        encoder.Reset(OrderedDeltaCodec.Contexts, ValueTokens.AlphabetSize(f.Bits), count);
        uint[] z = new uint[count];
        for (int i = 0; i < count; i++)
        {
            uint baseBits = f.Read(b, i);
            z[i] = f.ZigZag((f.ToOrdered(f.Read(t, i)) - f.ToOrdered(baseBits)) & f.ValueMask);
            int bucket = FloatFields.Bucket(anchor, f.Exponent(baseBits));
            int sign = (int)(baseBits >> (f.Bits - 1));
            int context = layout switch
            {
                OrderedDeltaCodec.FullLayout => (bucket * 2) + sign,
                OrderedDeltaCodec.ExponentLayout => bucket * 2,
                _ => 0,
            };
            encoder.Add(context, z[i]);
        }
    }

    /// <summary><c>delta-xor</c> exactly as docs/PATCH.md states it.</summary>
    private static byte[] ReferenceXor(DType dtype, byte[] b, byte[] t)
    {
        Assert.True(FloatFields.TryGet(dtype, out FloatFields f));
        int anchor = f.Anchor(b);
        int count = t.Length / f.Width;
        var encoder = new ContextTokenEncoder();
        encoder.Reset(XorFieldDeltaCodec.Contexts, ValueTokens.AlphabetSize(f.Bits), count * 2);
        for (int i = 0; i < count; i++)
        {
            uint baseBits = f.Read(b, i);
            uint x = f.Read(t, i) ^ baseBits;
            int bucket = FloatFields.Bucket(anchor, f.Exponent(baseBits));
            uint high = x >> f.ExponentShift;
            encoder.Add(bucket, high);
            encoder.Add(FloatFields.ExponentBuckets + (high == 0 ? 0 : FloatFields.ExponentBuckets) + bucket, x & ((1u << f.ExponentShift) - 1));
        }

        byte[] output = new byte[(t.Length * 3) + CodecSelector.Slack];
        output[0] = (byte)anchor;
        int written = encoder.Write(output.AsSpan(1));
        Assert.True(written >= 0);
        return output.AsSpan(0, written + 1).ToArray();
    }

    /// <summary>A base of trained-like values with special patterns mixed in, and a target near it with some wild and equal elements.</summary>
    private static (byte[] Base, byte[] Target) Pair(DType dtype, int count, int seed)
    {
        var random = new Random(seed);
        int width = DTypes.Size(dtype);
        uint mask = width == 4 ? uint.MaxValue : (1u << (width * 8)) - 1;
        uint[] specials = dtype switch
        {
            DType.BF16 => [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x0001, 0x807F, 0x7F7F],
            DType.F16 => [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x0001, 0x83FF, 0x7BFF],
            DType.F32 => [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 1, 0x807FFFFF, 0x7F7FFFFF],
            _ => [0x00, 0x80, 0x7F, 0xFF, 0x01, 0x7C, 0xFC],
        };
        byte[] b = new byte[count * width];
        byte[] t = new byte[count * width];
        for (int i = 0; i < count; i++)
        {
            float value = (float)((random.NextDouble() - 0.5) * 0.1);
            uint bits = BitConverter.SingleToUInt32Bits(value) >> (32 - (width * 8));
            uint baseBits = random.Next(16) == 0 ? specials[random.Next(specials.Length)] : bits & mask;
            uint targetBits = random.Next(8) switch
            {
                0 => baseBits,
                1 => specials[random.Next(specials.Length)],
                2 => (uint)random.NextInt64() & mask,
                _ => (uint)(baseBits + random.Next(-300, 301)) & mask,
            };
            Write(b, i, width, baseBits);
            Write(t, i, width, targetBits);
        }

        return (b, t);
    }

    private static void Write(byte[] data, int index, int width, uint value)
    {
        switch (width)
        {
            case 1: data[index] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(index * 2), (ushort)value); break;
            default: BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(index * 4), value); break;
        }
    }
}
