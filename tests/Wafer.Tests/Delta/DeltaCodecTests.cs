using System.Buffers.Binary;
using CsCheck;
using Wafer.Codecs;
using Wafer.Codecs.Kernels;
using Wafer.Delta;

namespace Wafer.Tests.Delta;

public class DeltaCodecTests
{
    private static readonly DType[] s_floatTypes = [DType.BF16, DType.F16, DType.F32, DType.F8E4M3, DType.F8E5M2];

    /// <summary>Bit patterns every float codec must carry exactly: ±0, ±inf, NaNs with payloads, subnormals, extremes.</summary>
    private static uint[] Specials(DType dtype) => dtype switch
    {
        DType.BF16 => [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F81, 0x0001, 0x807F, 0x7F7F, 0xFF7F, 0x3F80],
        DType.F16 => [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x7C01, 0x0001, 0x83FF, 0x7BFF, 0xFBFF, 0x3C00],
        DType.F32 => [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 1, 0x807FFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000],
        DType.F8E4M3 => [0x00, 0x80, 0x7F, 0xFF, 0x01, 0x87, 0x7E, 0xFE, 0x38],
        _ => [0x00, 0x80, 0x7C, 0xFC, 0x7D, 0xFF, 0x01, 0x83, 0x7B, 0x3C],
    };

    /// <summary>Base and target chunks: random and special patterns, targets mostly near their base, some equal, some wild.</summary>
    private static readonly Gen<(DType DType, byte[] Base, byte[] Target)> s_pairs =
        from dtype in Gen.Int[0, s_floatTypes.Length - 1].Select(i => s_floatTypes[i])
        from seeds in Gen.ULong.Array[0, 700]
        select Build(dtype, seeds);

    private static (DType, byte[], byte[]) Build(DType dtype, ulong[] seeds)
    {
        int width = DTypes.Size(dtype);
        uint mask = width == 4 ? uint.MaxValue : (1u << (width * 8)) - 1;
        uint[] specials = Specials(dtype);
        byte[] b = new byte[seeds.Length * width];
        byte[] t = new byte[seeds.Length * width];
        for (int i = 0; i < seeds.Length; i++)
        {
            ulong s = seeds[i];
            uint baseBits = (s % 5) == 0 ? specials[(int)((s >> 8) % (ulong)specials.Length)] : (uint)(s >> 16) & mask;
            uint targetBits = ((s >> 3) % 6) switch
            {
                0 => baseBits,
                1 => specials[(int)((s >> 40) % (ulong)specials.Length)],
                2 => (uint)(s >> 32) & mask,
                _ => (uint)(baseBits + (int)((s >> 48) % 9) - 4) & mask,
            };
            Write(b, i, width, baseBits);
            Write(t, i, width, targetBits);
        }

        return (dtype, b, t);
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

    private static byte[] RoundTrip(ChunkCodec codec, DType dtype, byte[] baseBytes, byte[] target)
    {
        byte[] payload = new byte[(target.Length * 2) + CodecSelector.Slack];
        int length = codec.Encode(target, new ChunkContext(dtype, baseBytes), payload);
        Assert.True(length >= 0, $"{codec.Name} refused a {target.Length}-byte {dtype} chunk");
        byte[] decoded = new byte[target.Length];
        codec.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, baseBytes), decoded);
        return decoded;
    }

    [Fact]
    public void Ordered_delta_is_bit_exact_for_every_float_pattern() =>
        s_pairs.Sample(p => Assert.Equal(p.Target, RoundTrip(OrderedDeltaCodec.Instance, p.DType, p.Base, p.Target)), iter: 300);

    [Fact]
    public void Xor_delta_is_bit_exact_for_every_float_pattern() =>
        s_pairs.Sample(p => Assert.Equal(p.Target, RoundTrip(XorFieldDeltaCodec.Instance, p.DType, p.Base, p.Target)), iter: 300);

    [Fact]
    public void Selector_output_decodes_with_the_codec_it_names() =>
        s_pairs.Sample(p =>
        {
            byte[] payload = new byte[(p.Target.Length * 2) + CodecSelector.Slack];
            (ChunkCodec codec, int length) = DeltaCodecSelector.EncodeTensor(p.Target, p.Base, p.DType, payload);
            Assert.True(length <= p.Target.Length, "a chunk is never stored larger than raw");
            byte[] decoded = new byte[p.Target.Length];
            codec.Decode(payload.AsSpan(0, length), new ChunkContext(p.DType, p.Base), decoded);
            Assert.Equal(p.Target, decoded);
        }, iter: 200);

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(4095)]
    [InlineData(4097)]
    [InlineData(65537)]
    public void Awkward_sizes_round_trip_through_both_delta_codecs(int count)
    {
        var random = new Random(count);
        foreach (DType dtype in s_floatTypes)
        {
            ulong[] seeds = new ulong[count];
            for (int i = 0; i < count; i++)
            {
                seeds[i] = (ulong)random.NextInt64();
            }

            (_, byte[] b, byte[] t) = Build(dtype, seeds);
            Assert.Equal(t, RoundTrip(OrderedDeltaCodec.Instance, dtype, b, t));
            Assert.Equal(t, RoundTrip(XorFieldDeltaCodec.Instance, dtype, b, t));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(9)]
    public void Values_that_moved_by_a_few_ulps_round_trip_with_few_or_no_extra_bits(int farMoves)
    {
        // Residuals under 32 ulps are whole tokens, so the extra bits are only those of the far moves and of the few
        // moves that wrap across the sign bit: a nearly empty stream, which the decoder reads from a zero-padded copy of
        // its tail.
        foreach (DType dtype in s_floatTypes)
        {
            foreach (int count in new[] { 33, 5000, 70_001 })
            {
                var random = new Random(count + farMoves);
                int width = DTypes.Size(dtype);
                byte[] b = new byte[count * width];
                random.NextBytes(b);
                byte[] t = MovedByFewUlps(random, dtype, b);
                for (int k = 0; k < farMoves; k++)
                {
                    int i = random.Next(count);
                    t[(i * width) + width - 1] ^= 0x20;
                }

                Assert.Equal(t, RoundTrip(OrderedDeltaCodec.Instance, dtype, b, t));
            }
        }
    }

    /// <summary>
    /// The base with every element's bits moved by at most 7: nearly every residual is under 32 ulps, except where a
    /// move wraps across the sign bit.
    /// </summary>
    private static byte[] MovedByFewUlps(Random random, DType dtype, byte[] b)
    {
        int width = DTypes.Size(dtype);
        uint mask = width == 4 ? uint.MaxValue : (1u << (width * 8)) - 1;
        byte[] t = new byte[b.Length];
        for (int i = 0; i < b.Length / width; i++)
        {
            uint value = width switch
            {
                1 => b[i],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i * 2)),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i * 4)),
            };
            Write(t, i, width, (uint)(value + random.Next(-7, 8)) & mask);
        }

        return t;
    }

    [Fact]
    public void Unchanged_values_cost_almost_nothing()
    {
        var random = new Random(7);
        byte[] b = TestModel.Bf16(random, 100_000, 0.02);
        byte[] t = (byte[])b.Clone();
        t[1001] ^= 1;
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload);
        Assert.InRange(length, 1, 400);
        Assert.Equal(0, SameAsBaseCodec.Instance.Encode(b, new ChunkContext(DType.BF16, b), payload));
        Assert.Equal(-1, SameAsBaseCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload));
    }

    [Fact]
    public void Ordered_delta_beats_the_xor_delta_on_fine_tune_like_changes()
    {
        var random = new Random(11);
        byte[] b = TestModel.Bf16(random, 200_000, 0.03);
        byte[] t = TestModel.FineTuneBf16(random, b, 0.002);
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int ordered = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload);
        int xor = XorFieldDeltaCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload);
        Assert.True(ordered < xor, $"delta-ord {ordered} bytes, delta-xor {xor}");
        Assert.True(ordered < t.Length / 2, $"delta-ord {ordered} bytes of {t.Length}");
    }

    [Theory]
    [InlineData(5000, false)]
    [InlineData(70_000, false)]
    [InlineData(5000, true)]
    [InlineData(70_000, true)]
    public void Damaged_payloads_fail_cleanly_or_decode_to_other_bytes(int count, bool fewUlps)
    {
        // 5000 elements make a four-lane token stream, 70,000 a 32-lane one (decoded with AVX2 where the machine has it).
        // Values that moved by a few ulps leave only a few bytes of extra bits, all decoded from the padded tail.
        var random = new Random(3);
        byte[] b = TestModel.Bf16(random, count, 0.02);
        byte[] t = fewUlps ? MovedByFewUlps(random, DType.BF16, b) : TestModel.FineTuneBf16(random, b, 0.002);
        foreach (ChunkCodec codec in new ChunkCodec[] { OrderedDeltaCodec.Instance, XorFieldDeltaCodec.Instance })
        {
            byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
            int length = codec.Encode(t, new ChunkContext(DType.BF16, b), payload);
            byte[] decoded = new byte[t.Length];
            for (int cut = 0; cut < length; cut += 1 + (length / 97))
            {
                Assert.Throws<WaferDataException>(() => codec.Decode(payload.AsSpan(0, cut), new ChunkContext(DType.BF16, b), decoded));
            }

            for (int i = 0; i < length; i += 1 + (length / 113))
            {
                byte[] damaged = payload.AsSpan(0, length).ToArray();
                damaged[i] ^= (byte)(1 << (i % 8));
                try
                {
                    codec.Decode(damaged, new ChunkContext(DType.BF16, b), decoded);
                    Assert.NotEqual(t, decoded);
                }
                catch (WaferDataException)
                {
                }
            }

            Assert.Throws<WaferDataException>(() => codec.Decode(payload.AsSpan(0, length), new ChunkContext(DType.BF16, b.AsSpan(2).ToArray()), decoded.AsSpan(2).ToArray()));
            Assert.Throws<WaferDataException>(() => codec.Decode(payload.AsSpan(0, length), new ChunkContext(DType.BF16, b.AsSpan(0, b.Length - 2)), decoded));
        }
    }

    [Theory]
    [Trait("Category", "Kernels")]
    [InlineData(DType.BF16, 70_000)]
    [InlineData(DType.F16, 70_000)]
    [InlineData(DType.F32, 70_000)]
    public void Ordered_delta_against_a_base_whose_contexts_have_no_table_fails_cleanly(DType dtype, int count)
    {
        // Coded against a base of one binade, so the stream has one exponent bucket's tables; decoded against a base
        // spread over many binades, whose elements ask for contexts the stream has no table for. (Chunks this long
        // always use the full context layout; shorter ones may choose the single context, which any base satisfies.)
        int width = DTypes.Size(dtype);
        byte[] narrow = new byte[count * width];
        byte[] wide = new byte[count * width];
        byte[] target = new byte[count * width];
        var random = new Random(11);
        for (int i = 0; i < count; i++)
        {
            float near = 1.0f + (float)random.NextDouble();
            float spread = (float)Math.ScaleB(1.0 + random.NextDouble(), -random.Next(0, 30));
            Write(narrow, i, width, Bits(dtype, near));
            Write(wide, i, width, Bits(dtype, spread));
            Write(target, i, width, Bits(dtype, near * 1.001f));
        }

        byte[] payload = new byte[(target.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(target, new ChunkContext(dtype, narrow), payload);
        Assert.True(length > 0);
        byte[] decoded = new byte[target.Length];
        OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, narrow), decoded);
        Assert.Equal(target, decoded);
        WaferDataException error = Assert.Throws<WaferDataException>(() => OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, wide), decoded));
        Assert.Contains("no table", error.Message, StringComparison.Ordinal);

        static uint Bits(DType dtype, float value) => dtype switch
        {
            DType.F16 => BitConverter.HalfToUInt16Bits((Half)value),
            DType.BF16 => BitConverter.SingleToUInt32Bits(value) >> 16,
            _ => BitConverter.SingleToUInt32Bits(value),
        };
    }

    /// <summary>
    /// An F32 chunk whose values are BF16 cast up (zero low halves) is coded as the BF16 chunk of its high halves
    /// against the base rounded to BF16: the same token stream, the narrow flag in the layout byte. The base may have
    /// any low halves (F32 master weights); it is rounded to nearest even before the residuals.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(15, false)]
    [InlineData(17, true)]
    [InlineData(33, false)]
    [InlineData(4097, true)]
    [InlineData(70_001, false)]
    [InlineData(70_001, true)]
    public void F32_chunks_of_bf16_values_code_as_their_bf16_halves(int count, bool fullBase)
    {
        var random = new Random(count);
        byte[] b16 = TestModel.Bf16(random, count, 0.02);
        byte[] t16 = TestModel.FineTuneBf16(random, b16, 0.002);
        t16.AsSpan(0, Math.Min(t16.Length, 8)).Fill(0xFF);
        byte[] b32 = Widened(b16);
        byte[] t32 = Widened(t16);
        if (fullBase)
        {
            for (int i = 0; i < count; i++)
            {
                b32[4 * i] = (byte)random.Next(256);
                b32[(4 * i) + 1] = (byte)random.Next(256);
            }
        }

        byte[] rounded = new byte[b32.Length / 2];
        BaseConversion.RoundToBFloat16Scalar(b32, rounded);
        Assert.Equal(fullBase, !rounded.AsSpan().SequenceEqual(b16));
        AssertCodedNarrow(t32, b32, DType.F32, t16, rounded, DType.BF16, pays: t32.Length / 4);
    }

    /// <summary>
    /// The narrow payload of <paramref name="target"/> against <paramref name="reference"/> is the
    /// <paramref name="narrowType"/> payload of <paramref name="narrowTarget"/> against
    /// <paramref name="narrowReference"/> with that type's flag set, decodes exactly, and the selector takes it (within
    /// <paramref name="pays"/> bytes when the chunk is large).
    /// </summary>
    private static void AssertCodedNarrow(byte[] target, byte[] reference, DType dtype, byte[] narrowTarget, byte[] narrowReference, DType narrowType, int pays)
    {
        int flag = narrowType == DType.BF16 ? OrderedDeltaCodec.NarrowFlag : OrderedDeltaCodec.HalfNarrowFlag;
        byte[] payload16 = new byte[(target.Length * 2) + CodecSelector.Slack];
        int length16 = OrderedDeltaCodec.Instance.Encode(narrowTarget, new ChunkContext(narrowType, narrowReference), payload16);
        byte[] payload = new byte[(target.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(target, new ChunkContext(dtype, reference), payload);
        Assert.Equal(length16, length);
        Assert.Equal(payload16[0], payload[0]);
        Assert.Equal(payload16[1] | flag, payload[1]);
        Assert.Equal(payload16.AsSpan(2, length16 - 2).ToArray(), payload.AsSpan(2, length - 2).ToArray());

        byte[] decoded = new byte[target.Length];
        OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, reference), decoded);
        Assert.Equal(target, decoded);

        byte[] selected = new byte[(target.Length * 2) + CodecSelector.Slack];
        (ChunkCodec codec, int selectedLength) = DeltaCodecSelector.EncodeTensor(target, reference, dtype, selected);
        codec.Decode(selected.AsSpan(0, selectedLength), new ChunkContext(dtype, reference), decoded);
        Assert.Equal(target, decoded);
        if (target.Length / DTypes.Size(dtype) > 4096)
        {
            Assert.Same(OrderedDeltaCodec.Instance, codec);
            Assert.Equal(flag, selected[1] & (OrderedDeltaCodec.NarrowFlag | OrderedDeltaCodec.HalfNarrowFlag));
            Assert.True(selectedLength <= pays, $"{selectedLength} bytes for {target.Length}");
        }
    }

    /// <summary>The chunk is coded at its own width (neither narrow flag set) and decodes exactly.</summary>
    private static void AssertCodedWhole(byte[] target, byte[] reference, DType dtype)
    {
        byte[] payload = new byte[(target.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(target, new ChunkContext(dtype, reference), payload);
        Assert.Equal(0, payload[1] & (OrderedDeltaCodec.NarrowFlag | OrderedDeltaCodec.HalfNarrowFlag));
        byte[] decoded = new byte[target.Length];
        OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, reference), decoded);
        Assert.Equal(target, decoded);
    }

    /// <summary>Full F32 weights rounded to BF16 and cast back up (training in BF16 from F32 weights) cost next to nothing against them.</summary>
    [Fact]
    public void F32_weights_rounded_to_bf16_and_cast_up_cost_next_to_nothing_against_them()
    {
        byte[] b = TestModel.F32(new Random(8), 100_000, 0.02);
        byte[] rounded = new byte[b.Length / 2];
        BaseConversion.RoundToBFloat16Scalar(b, rounded);
        byte[] t = Widened(rounded);
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.F32, b), payload);
        Assert.InRange(length, 1, t.Length / 200);
        byte[] decoded = new byte[t.Length];
        OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.F32, b), decoded);
        Assert.Equal(t, decoded);
    }

    [Fact]
    public void F32_chunks_with_one_live_low_bit_are_not_narrowed()
    {
        var random = new Random(2);
        byte[] b = Widened(TestModel.Bf16(random, 5000, 0.02));
        byte[] t = Widened(TestModel.FineTuneBf16(random, TestModel.Bf16(random, 5000, 0.02), 0.002));
        t[4 * 4321] = 1;
        AssertCodedWhole(t, b, DType.F32);
    }

    /// <summary>
    /// An F16 chunk whose values are all BF16 values (a BF16 model cast to F16) is coded as the BF16 chunk of those
    /// values against the base rounded to BF16: the same token stream, the narrow flag in the layout byte. The base may
    /// be any F16 values (it is rounded to nearest even); the target keeps its subnormals, zeros, infinities and quiet
    /// NaNs exactly.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(9, false)]
    [InlineData(17, true)]
    [InlineData(4097, true)]
    [InlineData(70_001, false)]
    [InlineData(70_001, true)]
    public void F16_chunks_of_bf16_values_code_as_their_bf16_values(int count, bool fullBase)
    {
        var random = new Random(count);
        byte[] b16 = TestModel.Bf16(random, count, 0.02);
        byte[] t16 = TestModel.FineTuneBf16(random, b16, 0.002);
        ushort[] specials = [0x0000, 0x8000, 0x0001, 0x807F, 0x0080, 0x7F80, 0xFF80, 0x7FC0, 0x3880, 0x3800, 0x4780];
        for (int i = 0; i < Math.Min(count, specials.Length); i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(t16.AsSpan(2 * i), specials[i]);
        }

        byte[] t = Halves(t16);
        byte[] b = Halves(b16);
        if (fullBase)
        {
            for (int i = 0; i < count; i++)
            {
                b[2 * i] ^= (byte)random.Next(8);
            }
        }

        Assert.True(HalfBFloat16.AllBFloat16(t));
        byte[] narrowTarget = new byte[t.Length];
        byte[] rounded = new byte[b.Length];
        HalfBFloat16.ToBFloat16Scalar(t, narrowTarget, exactOnly: false);
        HalfBFloat16.ToBFloat16Scalar(b, rounded, exactOnly: false);
        AssertCodedNarrow(t, b, DType.F16, narrowTarget, rounded, DType.BF16, pays: t.Length / 2);

        static byte[] Halves(byte[] bf16)
        {
            byte[] halves = new byte[bf16.Length];
            for (int i = 0; i < bf16.Length / 2; i++)
            {
                float value = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(2 * i)) << 16);
                BinaryPrimitives.WriteHalfLittleEndian(halves.AsSpan(2 * i), (Half)value);
            }

            return halves;
        }
    }

    /// <summary>A live low mantissa bit, a subnormal with nine significant bits or a signalling NaN keeps an F16 chunk whole.</summary>
    [Theory]
    [InlineData((ushort)0x3C01)]
    [InlineData((ushort)0x0101)]
    [InlineData((ushort)0x7C08)]
    public void F16_chunks_with_one_value_outside_bf16_are_not_narrowed(ushort outsider)
    {
        var random = new Random(3);
        byte[] b = new byte[2 * 5000];
        byte[] t = new byte[2 * 5000];
        for (int i = 0; i < 5000; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(2 * i), (Half)(float)(random.NextDouble() - 0.5));
            BinaryPrimitives.WriteUInt16LittleEndian(t.AsSpan(2 * i), (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * i)) & ~7));
        }

        Assert.True(HalfBFloat16.AllBFloat16(t));
        BinaryPrimitives.WriteUInt16LittleEndian(t.AsSpan(2 * 4321), outsider);
        Assert.False(HalfBFloat16.AllBFloat16(t));
        AssertCodedWhole(t, b, DType.F16);
    }

    /// <summary>
    /// An F32 chunk whose values are all F16 values (an F16 model cast up) is coded as the F16 chunk of those values
    /// against the base rounded to F16: the same token stream, the F16 flag in the layout byte; subnormals, zeros,
    /// infinities and quiet NaNs included. The base may be any F32 values.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(9, true)]
    [InlineData(4097, false)]
    [InlineData(70_001, false)]
    [InlineData(70_001, true)]
    public void F32_chunks_of_f16_values_code_as_their_f16_values(int count, bool fullBase)
    {
        var random = new Random(count);
        byte[] b32 = TestModel.F32(random, count, 0.02);
        byte[] t32 = TestModel.FineTuneF32(random, b32, 0.0002);
        byte[] t16 = new byte[count * 2];
        HalfSingle.Round(t32, t16);

        // After the first element, whose F16 value has live low bits (else the chunk would be BF16 values).
        ushort[] specials = [0x0000, 0x8000, 0x0001, 0x83FF, 0x0400, 0x7C00, 0xFC00, 0x7E00, 0xFE55, 0x7BFF];
        for (int i = 1; i < Math.Min(count, specials.Length + 1); i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(t16.AsSpan(2 * i), specials[i - 1]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(t16.AsSpan(0), 0x3C01);

        HalfSingle.Widen(t16, t32);
        if (!fullBase)
        {
            byte[] b16 = new byte[count * 2];
            HalfSingle.Round(b32, b16);
            HalfSingle.Widen(b16, b32);
        }

        Assert.True(HalfSingle.AllHalfValues(t32));
        Assert.Equal(DType.F16, OrderedDeltaCodec.NarrowType(t32, b32, DType.F32));
        byte[] rounded = new byte[count * 2];
        HalfSingle.Round(b32, rounded);
        AssertCodedNarrow(t32, b32, DType.F32, t16, rounded, DType.F16, pays: t32.Length / 4);
    }

    /// <summary>A value with one of F16's missing mantissa bits, a value past F16's range or a signalling NaN keeps an F32 chunk whole.</summary>
    [Theory]
    [InlineData(0x3F800001u)]
    [InlineData(0x47800000u)]
    [InlineData(0x33000000u)]
    [InlineData(0x7F802000u)]
    public void F32_chunks_with_one_value_outside_f16_are_not_narrowed(uint outsider)
    {
        var random = new Random(5);
        byte[] b = TestModel.F32(random, 5000, 0.02);
        byte[] t16 = new byte[5000 * 2];
        HalfSingle.Round(TestModel.FineTuneF32(random, b, 0.002), t16);
        byte[] t = new byte[5000 * 4];
        HalfSingle.Widen(t16, t);
        Assert.True(HalfSingle.AllHalfValues(t));
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(4 * 4321), outsider);
        Assert.False(HalfSingle.AllHalfValues(t));
        Assert.Null(OrderedDeltaCodec.NarrowType(t, b, DType.F32));
        AssertCodedWhole(t, b, DType.F32);
    }

    /// <summary>The F32 → F16 → F32 round trip decides, on every F16 pattern widened, on random words and on the edges of F16's range.</summary>
    [Fact]
    public void F16_values_in_F32_are_found_by_the_round_trip_rule()
    {
        byte[] one = new byte[4];
        for (int h = 0; h < 65536; h++)
        {
            uint single = BaseConversion.HalfBitsToSingleBits((ushort)h);
            BinaryPrimitives.WriteUInt32LittleEndian(one, single);
            bool signalling = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0 && (h & 0x200) == 0;
            Assert.Equal(!signalling, HalfSingle.AllHalfValues(one));
        }

        var random = new Random(7);
        uint[] edges = [0x38800000, 0x387FE000, 0x33800000, 0x33000000, 0x477FE000, 0x477FF000, 0x47800000, 0x7F800000, 0x7FC00000, 0x7FC01000, 0x00000001];
        foreach (uint single in edges.Concat(Enumerable.Range(0, 100_000).Select(_ => (uint)random.NextInt64(1L << 32))))
        {
            BinaryPrimitives.WriteUInt32LittleEndian(one, single);
            Assert.Equal(BaseConversion.HalfBitsToSingleBits(BaseConversion.SingleBitsToHalfBits(single)) == single, HalfSingle.AllHalfValues(one));
        }
    }

    /// <summary>The F16 flag is valid in F32 chunks only, and never with the BF16 flag.</summary>
    [Theory]
    [InlineData(DType.F16, 0x40)]
    [InlineData(DType.BF16, 0x40)]
    [InlineData(DType.F32, 0xC0)]
    public void The_f16_narrow_flag_is_refused_outside_F32_and_with_the_bf16_flag(DType dtype, int flags)
    {
        var random = new Random(6);
        int width = DTypes.Size(dtype);
        byte[] b = new byte[100 * width];
        random.NextBytes(b);
        byte[] t = (byte[])b.Clone();
        t[7] ^= 1;
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(dtype, b), payload);
        payload[1] |= (byte)flags;
        WaferDataException error = Assert.Throws<WaferDataException>(() => OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, b), new byte[t.Length]));
        Assert.Contains("not valid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F8E4M3)]
    [InlineData(DType.F8E5M2)]
    public void The_narrow_flag_is_refused_outside_F32_and_F16(DType dtype)
    {
        var random = new Random(4);
        int width = DTypes.Size(dtype);
        byte[] b = new byte[100 * width];
        random.NextBytes(b);
        byte[] t = (byte[])b.Clone();
        t[7] ^= 1;
        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(dtype, b), payload);
        payload[1] |= OrderedDeltaCodec.NarrowFlag;
        WaferDataException error = Assert.Throws<WaferDataException>(() => OrderedDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, b), new byte[t.Length]));
        Assert.Contains("not valid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OrderedDeltaCodec.NarrowFlag)]
    [InlineData(OrderedDeltaCodec.HalfNarrowFlag)]
    public void A_narrow_payload_decoded_as_full_F32_or_damaged_fails_cleanly_or_decodes_to_other_bytes(int flag)
    {
        var random = new Random(9);
        byte[] b = Widened(TestModel.Bf16(random, 70_000, 0.02));
        byte[] t = Widened(TestModel.FineTuneBf16(random, TestModel.Bf16(random, 70_000, 0.02), 0.002));
        if (flag == OrderedDeltaCodec.HalfNarrowFlag)
        {
            // F16 values with live low mantissa bits, cast up.
            for (int i = 0; i < t.Length; i += 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(i), BaseConversion.HalfBitsToSingleBits((ushort)(BaseConversion.SingleBitsToHalfBits(BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(i))) | 1)));
            }
        }

        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.F32, b), payload);
        Assert.Equal(flag, payload[1] & (OrderedDeltaCodec.NarrowFlag | OrderedDeltaCodec.HalfNarrowFlag));
        byte[] decoded = new byte[t.Length];
        for (int i = 1; i < length; i += 1 + (length / 61))
        {
            byte[] damaged = payload.AsSpan(0, length).ToArray();
            damaged[i] ^= (byte)(i == 1 ? flag : 1 << (i % 8));
            try
            {
                OrderedDeltaCodec.Instance.Decode(damaged, new ChunkContext(DType.F32, b), decoded);
                Assert.NotEqual(t, decoded);
            }
            catch (WaferDataException)
            {
            }
        }
    }

    /// <summary>
    /// A large F32 chunk whose delta does not pay by the half-raw rule is coded by the smaller of the two coded in full:
    /// values with 12 dead low bits unrelated to their base by the standalone codecs alone, on the sample's word
    /// (float-split drops dead bits); a fine-tune-like move by its delta, which the standalone payload proves smaller.
    /// </summary>
    [Fact]
    public void Large_F32_chunks_are_coded_by_the_smaller_of_delta_and_standalone()
    {
        const int Count = 1 << 20;
        var random = new Random(13);
        byte[] b = TestModel.F32(random, Count, 0.02);
        byte[] moved = TestModel.FineTuneF32(random, b, 0.0005);
        byte[] dead = TestModel.F32(random, Count, 0.02);
        for (int i = 0; i < Count; i++)
        {
            dead[4 * i] = 0;
            dead[(4 * i) + 1] &= 0xF0;
        }

        foreach ((byte[] t, bool deltaWins) in new[] { (moved, true), (dead, false) })
        {
            byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
            (ChunkCodec codec, int length) = DeltaCodecSelector.EncodeTensor(t, b, DType.F32, payload);
            byte[] decoded = new byte[t.Length];
            codec.Decode(payload.AsSpan(0, length), new ChunkContext(DType.F32, codec.NeedsReference ? b : default), decoded);
            Assert.Equal(t, decoded);

            byte[] scratch = new byte[(t.Length * 2) + CodecSelector.Slack];
            int ordered = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.F32, b), scratch);
            int xor = XorFieldDeltaCodec.Instance.Encode(t, new ChunkContext(DType.F32, b), scratch);
            int standalone = CodecSelector.Encode(t, DType.F32, CodecChoice.Auto, scratch).Length;
            Assert.True(Math.Min(ordered, xor) > t.Length / 2, $"delta {Math.Min(ordered, xor)} of {t.Length}: the half-raw rule would decide alone");
            Assert.Equal(deltaWins, codec.NeedsReference);
            Assert.Equal(Math.Min(Math.Min(ordered, xor), standalone), length);
        }
    }

    /// <summary>
    /// A 2:4-pruned copy of its base (two of every four weights zeroed, the rest unchanged) deltas to under half the raw
    /// chunk, but sparse codes it smaller, and delta-sparse (the zeros as a bitmap, the kept weights against the base)
    /// smaller still: the selector tries both when the chunk is about half zeros, so a patch chunk never costs more than
    /// the target's own archive stores. BF16, and F32 (narrow) alike.
    /// </summary>
    [Fact]
    public void A_pruned_copy_of_the_base_is_coded_as_its_zeros_and_the_kept_weights_delta()
    {
        var random = new Random(17);
        byte[] b = TestModel.Bf16(random, 200_000, 0.02);
        byte[] t = (byte[])b.Clone();
        for (int i = 0; i < 200_000; i += 4)
        {
            foreach (int j in Enumerable.Range(i, 4).OrderBy(j => Math.Abs((short)BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2 * j)) << 1)).Take(2))
            {
                t[2 * j] = 0;
                t[(2 * j) + 1] = 0;
            }
        }

        foreach ((DType dtype, byte[] baseBytes, byte[] target) in new[] { (DType.BF16, b, t), (DType.F32, Widened(b), Widened(t)) })
        {
            byte[] payload = new byte[(target.Length * 2) + CodecSelector.Slack];
            int delta = OrderedDeltaCodec.Instance.Encode(target, new ChunkContext(dtype, baseBytes), payload);
            (ChunkCodec standaloneCodec, int standalone) = CodecSelector.Encode(target, dtype, CodecChoice.Auto, payload);
            Assert.True(delta <= target.Length / (dtype == DType.F32 ? 4 : 2), $"{dtype}: delta {delta} of {target.Length} pays by the half-raw rule");
            Assert.True(standalone < delta, $"{dtype}: {standaloneCodec.Name} {standalone} against delta {delta}");

            (ChunkCodec codec, int length) = DeltaCodecSelector.EncodeTensor(target, baseBytes, dtype, payload);
            Assert.Same(SparseDeltaCodec.Instance, codec);
            Assert.True(length < standalone / 4, $"{dtype}: delta-sparse {length} against {standaloneCodec.Name} {standalone}");
            byte[] decoded = new byte[target.Length];
            codec.Decode(payload.AsSpan(0, length), new ChunkContext(dtype, codec.NeedsReference ? baseBytes : default), decoded);
            Assert.Equal(target, decoded);
        }
    }

    /// <summary>
    /// Two thirds of a large chunk pruned at random: its delta exceeds half the raw chunk and the sample shows sparse far
    /// smaller, yet delta-sparse, which leaves the kept weights to the base, is smaller still and is what the chunk gets.
    /// </summary>
    [Fact]
    public void A_chunk_pruned_past_half_is_coded_delta_sparse_even_when_its_sample_prefers_sparse()
    {
        var random = new Random(23);
        const int Count = 300_000;
        byte[] b = TestModel.Bf16(random, Count, 0.02);
        byte[] t = (byte[])b.Clone();
        for (int i = 0; i < Count; i++)
        {
            if (random.Next(3) != 0)
            {
                t[2 * i] = 0;
                t[(2 * i) + 1] = 0;
            }
        }

        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int delta = OrderedDeltaCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload);
        int sparse = CodecSelector.Encode(t, DType.BF16, CodecChoice.Auto, payload).Length;
        Assert.True(delta > t.Length / 2, $"delta {delta} of {t.Length}");
        (ChunkCodec codec, int length) = DeltaCodecSelector.EncodeTensor(t, b, DType.BF16, payload);
        Assert.Same(SparseDeltaCodec.Instance, codec);
        Assert.True(length < sparse / 2, $"delta-sparse {length}, sparse {sparse}");
        byte[] decoded = new byte[t.Length];
        codec.Decode(payload.AsSpan(0, length), new ChunkContext(DType.BF16, b), decoded);
        Assert.Equal(t, decoded);
    }

    /// <summary>Every float dtype and awkward size, targets from all-zero to none zero, specials included, round-trip through delta-sparse.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(33)]
    [InlineData(4097)]
    [InlineData(70_001)]
    public void Delta_sparse_round_trips_every_float_dtype(int count)
    {
        var random = new Random(count);
        foreach (DType dtype in s_floatTypes)
        {
            foreach (double zeros in new[] { 0.0, 0.5, 0.8, 1.0 })
            {
                ulong[] seeds = new ulong[count];
                for (int i = 0; i < count; i++)
                {
                    seeds[i] = (ulong)random.NextInt64();
                }

                (_, byte[] b, byte[] t) = Build(dtype, seeds);
                int width = DTypes.Size(dtype);
                for (int i = 0; i < count; i++)
                {
                    if (random.NextDouble() < zeros)
                    {
                        t.AsSpan(i * width, width).Clear();
                    }
                }

                Assert.Equal(t, RoundTrip(SparseDeltaCodec.Instance, dtype, b, t));
            }
        }
    }

    [Fact]
    public void Damaged_delta_sparse_payloads_fail_cleanly_or_decode_to_other_bytes()
    {
        var random = new Random(19);
        byte[] b = TestModel.Bf16(random, 20_000, 0.02);
        byte[] t = TestModel.FineTuneBf16(random, b, 0.002);
        for (int i = 0; i < t.Length; i += 2)
        {
            if (random.Next(2) == 0)
            {
                t[i] = 0;
                t[i + 1] = 0;
            }
        }

        byte[] payload = new byte[(t.Length * 2) + CodecSelector.Slack];
        int length = SparseDeltaCodec.Instance.Encode(t, new ChunkContext(DType.BF16, b), payload);
        byte[] decoded = new byte[t.Length];
        for (int cut = 0; cut < length; cut += 1 + (length / 97))
        {
            Assert.Throws<WaferDataException>(() => SparseDeltaCodec.Instance.Decode(payload.AsSpan(0, cut), new ChunkContext(DType.BF16, b), decoded));
        }

        for (int i = 0; i < length; i += 1 + (length / 113))
        {
            byte[] damaged = payload.AsSpan(0, length).ToArray();
            damaged[i] ^= (byte)(1 << (i % 8));
            try
            {
                SparseDeltaCodec.Instance.Decode(damaged, new ChunkContext(DType.BF16, b), decoded);
                Assert.NotEqual(t, decoded);
            }
            catch (WaferDataException)
            {
            }
        }

        Assert.Throws<WaferDataException>(() => SparseDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.BF16, b.AsSpan(2).ToArray()), decoded));
        Assert.Throws<WaferDataException>(() => SparseDeltaCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.I32, b), decoded));
    }

    /// <summary>Each BF16 element as an F32 element with a zero low half.</summary>
    private static byte[] Widened(byte[] bf16)
    {
        byte[] f32 = new byte[bf16.Length * 2];
        for (int i = 0; i < bf16.Length / 2; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f32.AsSpan(4 * i), (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(2 * i)) << 16);
        }

        return f32;
    }

    /// <summary>Both of the writer's settings: level 19 up to 256 KiB, level 9 with long-distance matching above.</summary>
    [Theory]
    [InlineData(50_000)]
    [InlineData(ZstdReferenceCodec.SlowLevelLimit + 300_000)]
    public void Zstd_reference_codec_round_trips_and_uses_the_base(int size)
    {
        byte[] b = new byte[size];
        new Random(5).NextBytes(b);
        byte[] t = (byte[])b.Clone();
        t[100] ^= 0xFF;
        t[40_000] ^= 0x0F;
        t[size - 5] ^= 0x10;
        byte[] payload = new byte[t.Length + CodecSelector.Slack];
        int length = ZstdReferenceCodec.Instance.Encode(t, new ChunkContext(DType.Opaque, b), payload);
        Assert.InRange(length, 1, 200);
        byte[] decoded = new byte[t.Length];
        ZstdReferenceCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.Opaque, b), decoded);
        Assert.Equal(t, decoded);
        byte[] other = (byte[])b.Clone();
        other[7] ^= 1;
        Assert.ThrowsAny<Exception>(() =>
        {
            ZstdReferenceCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.Opaque, other), decoded);
            Assert.Equal(t, decoded);
        });
    }

    [Fact]
    public void Value_tokens_round_trip_every_width()
    {
        foreach (int bits in new[] { 8, 16, 32 })
        {
            foreach (uint value in new uint[] { 0, 1, 31, 32, 33, 63, 64, 1000, 65535 }.Where(v => bits == 32 || v < 1u << bits).Append(bits == 32 ? uint.MaxValue : (1u << bits) - 1))
            {
                int token = ValueTokens.Token(value, out int extra);
                Assert.InRange(token, 0, ValueTokens.AlphabetSize(bits) - 1);
                Assert.Equal(extra, ValueTokens.ExtraBits(token));
                Assert.Equal(value, ValueTokens.Value(token, extra == 0 ? 0 : value & ((1u << extra) - 1)));
            }
        }
    }
}
