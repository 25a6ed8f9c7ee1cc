using CsCheck;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

[Trait("Category", "Kernels")]
public sealed class CodecRoundTripTests
{
    private static readonly ChunkCodec[] s_codecs =
    [
        RawCodec.Instance, ZstdCodec.Instance, FloatSplitCodec.Instance, ConstantCodec.Instance,
        PaletteCodec.Instance, SparseCodec.Instance, BytePlanesCodec.Instance,
    ];

    /// <summary>Awkward element counts: empty, one, around vector widths and rANS lanes, blocks and the 64 KiB chunk.</summary>
    public static TheoryData<int> Counts => new(0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 2047, 2048, 2049, 4095, 4096, 4097);

    [Theory]
    [MemberData(nameof(Counts))]
    public void Every_codec_round_trips_every_dtype_and_kind_at_awkward_sizes(int count)
    {
        foreach (DType dtype in ChunkSamples.AllTypes)
        {
            for (int kind = 0; kind < ChunkSamples.KindCount; kind++)
            {
                byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, (count * 31) + kind);
                foreach (ChunkCodec codec in s_codecs)
                {
                    CodecAssert.RoundTrip(codec, data, dtype);
                }
            }
        }
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F32)]
    [InlineData(DType.F8E4M3)]
    [InlineData(DType.U8)]
    public void Sizes_around_the_smallest_chunk_round_trip(DType dtype)
    {
        int elements = (64 * 1024) / DTypes.Size(dtype);
        foreach (int count in new[] { elements - 1, elements, elements + 1 })
        {
            byte[] data = ChunkSamples.Make(dtype, count, ChunkSamples.Kind.Weights, count);
            Assert.NotNull(CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype) ?? CodecAssert.RoundTrip(ZstdCodec.Instance, data, dtype) ?? []);
        }
    }

    /// <summary>Streams of at least <see cref="Wafer.Codecs.Entropy.Rans.WideThreshold"/> symbols switch to 32 interleaved states and the vector decoder.</summary>
    [Theory]
    [InlineData(Wafer.Codecs.Entropy.Rans.WideThreshold - 1)]
    [InlineData(Wafer.Codecs.Entropy.Rans.WideThreshold)]
    [InlineData(Wafer.Codecs.Entropy.Rans.WideThreshold + 1)]
    [InlineData((2 * Wafer.Codecs.Entropy.Rans.WideThreshold) + 2053)]
    public void Entropy_coded_codecs_round_trip_around_the_wide_stream_threshold(int count)
    {
        foreach (DType dtype in ChunkSamples.FloatTypes)
        {
            for (int kind = 0; kind < ChunkSamples.KindCount; kind++)
            {
                byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, count + kind);
                CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype);
                CodecAssert.RoundTrip(PaletteCodec.Instance, data, dtype);
                CodecAssert.RoundTrip(SparseCodec.Instance, data, dtype);
            }
        }
    }

    /// <summary>
    /// Joint-mode float-split streams switch to 32 states at <see cref="FloatSplitCodec.JointWideMinimum"/> values, and
    /// the final block of up to 2048 values reads the raw bytes its states kept: one value, a part and a whole block.
    /// </summary>
    [Theory]
    [InlineData(FloatSplitCodec.JointWideMinimum - 1)]
    [InlineData(FloatSplitCodec.JointWideMinimum)]
    [InlineData(FloatSplitCodec.JointWideMinimum + 1)]
    [InlineData(FloatSplitCodec.JointWideMinimum + 37)]
    [InlineData(FloatSplitCodec.JointWideMinimum + 2048)]
    public void Float_split_round_trips_around_the_joint_wide_threshold_and_final_blocks(int count)
    {
        foreach (DType dtype in ChunkSamples.FloatTypes)
        {
            for (int kind = 0; kind < ChunkSamples.KindCount; kind++)
            {
                byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, count + (7 * kind));
                CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype);
            }
        }
    }

    /// <summary>
    /// 16-bit chunks of at least 4096 values fold only the counts between each sign's smallest and largest value: one
    /// sign alone, both, and values at the ends of either range must all be counted.
    /// </summary>
    [Theory]
    [InlineData(DType.BF16, 5000)]
    [InlineData(DType.F16, 5000)]
    [InlineData(DType.BF16, 300_000)] // past the limit where the whole histogram is folded
    public void Sixteen_bit_chunks_of_one_sign_both_or_at_the_range_ends_round_trip(DType dtype, int count)
    {
        var rng = new Random(11);
        ushort[][] cases =
        [
            Enumerable.Range(0, count).Select(_ => (ushort)rng.Next(0x3000, 0x3F00)).ToArray(),
            Enumerable.Range(0, count).Select(_ => (ushort)rng.Next(0xB000, 0xBF00)).ToArray(),
            Enumerable.Range(0, count).Select(i => (ushort)(i % 4 switch { 0 => 0x0000, 1 => 0x7FFF, 2 => 0x8000, _ => 0xFFFF })).ToArray(),
            Enumerable.Range(0, count).Select(i => (ushort)(i == count - 1 ? 0xFFFF : 0x3C00 + (i % 7))).ToArray(),
            Enumerable.Range(0, count).Select(i => (ushort)(i == 17 ? 0x0000 : 0xBC00 + (i % 5))).ToArray(),
        ];
        foreach (ushort[] values in cases)
        {
            byte[] data = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), values[i]);
            }

            Assert.NotNull(CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype));
        }
    }

    [Fact]
    public void Float_split_takes_every_float_dtype_of_weights()
    {
        foreach (DType dtype in ChunkSamples.FloatTypes)
        {
            byte[] data = ChunkSamples.Make(dtype, 5000, ChunkSamples.Kind.Weights, 7);
            byte[]? payload = CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype);
            Assert.NotNull(payload);
            Assert.True(payload.Length < data.Length, $"{DTypes.Name(dtype)} weights did not shrink: {payload.Length} of {data.Length}");
        }
    }

    [Fact]
    public void Float_split_random_bit_patterns_round_trip_for_every_float_dtype()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3000], Gen.Int[0, ChunkSamples.KindCount - 1], Gen.Int)
            .Sample((type, count, kind, seed) =>
            {
                DType dtype = ChunkSamples.FloatTypes[type];
                byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, seed);
                byte[]? payload = CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype);

                // Only F64 with more than 256 distinct exponents (random bits) may be declined.
                Assert.True(payload is not null || (dtype == DType.F64 && kind == (int)ChunkSamples.Kind.RandomBits) || count == 0 && payload is not null);
            }, iter: 150, threads: 1);
    }

    [Fact]
    public void Context_mode_and_mantissa_symbol_paths_are_exercised_and_round_trip()
    {
        // A drifting scale makes the previous exponent informative, which selects the context mode.
        bool sawContextMode = false;
        foreach (DType dtype in new[] { DType.F32, DType.BF16, DType.F64 })
        {
            for (int seed = 0; seed < 4; seed++)
            {
                byte[] data = ChunkSamples.Make(dtype, 20_000, ChunkSamples.Kind.DriftingScale, seed);
                byte[]? payload = CodecAssert.RoundTrip(FloatSplitCodec.Instance, data, dtype);
                Assert.NotNull(payload);
                sawContextMode |= FloatSplitCodec.Describe(payload).Mode == 1;
            }
        }

        Assert.True(sawContextMode);
    }

    [Fact]
    public void Negative_zero_and_nan_payloads_survive_every_codec()
    {
        foreach (DType dtype in ChunkSamples.FloatTypes)
        {
            byte[] data = ChunkSamples.Make(dtype, 3000, ChunkSamples.Kind.Specials, 11);
            foreach (ChunkCodec codec in s_codecs)
            {
                CodecAssert.RoundTrip(codec, data, dtype);
            }
        }
    }
}
