using System.Buffers.Binary;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>
/// <c>f16-bf16</c>: F16 chunks of BF16 values (a BF16 model cast to F16) coded as the float-split payload of their BF16
/// values; every other chunk declined.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class HalfAsBFloat16CodecTests
{
    public static TheoryData<int> Counts => new(1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 2047, 2048, 2049, 4097, 70_001);

    /// <summary>Every kind of BF16 content (random bits, NaNs and infinities included) cast to F16 round-trips, exactly.</summary>
    [Theory]
    [MemberData(nameof(Counts))]
    public void F16_casts_of_bf16_chunks_round_trip_at_awkward_sizes(int count)
    {
        for (int kind = 0; kind < ChunkSamples.KindCount; kind++)
        {
            byte[] data = CastToHalf(ChunkSamples.Make(DType.BF16, count, (ChunkSamples.Kind)kind, (count * 7) + kind));
            byte[]? payload = CodecAssert.RoundTrip(HalfAsBFloat16Codec.Instance, data, DType.F16);
            Assert.True(payload is not null || kind == (int)ChunkSamples.Kind.RandomBits, $"declined kind {(ChunkSamples.Kind)kind}");
        }
    }

    /// <summary>The payload is float-split's for the BF16 values, so the two decode each other's chunks.</summary>
    [Fact]
    public void The_payload_is_float_split_of_the_bf16_values()
    {
        byte[] bf16 = ChunkSamples.Make(DType.BF16, 50_000, ChunkSamples.Kind.Weights, 5);
        byte[] data = CastToHalf(bf16);
        byte[] values = new byte[data.Length];
        for (int i = 0; i < data.Length / 2; i++)
        {
            float value = (float)BinaryPrimitives.ReadHalfLittleEndian(data.AsSpan(2 * i));
            BinaryPrimitives.WriteUInt16LittleEndian(values.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
        }

        byte[] expected = new byte[data.Length + CodecSelector.Slack];
        int expectedLength = FloatSplitCodec.Instance.Encode(values, new ChunkContext(DType.BF16), expected);
        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = HalfAsBFloat16Codec.Instance.Encode(data, new ChunkContext(DType.F16), payload);
        Assert.Equal(expected.AsSpan(0, expectedLength).ToArray(), payload.AsSpan(0, length).ToArray());
    }

    /// <summary>F16 weights with live low mantissa bits, and other dtypes, are declined.</summary>
    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F32)]
    public void Other_chunks_are_declined(DType dtype)
    {
        byte[] data = ChunkSamples.Make(dtype, 10_000, ChunkSamples.Kind.Weights, 3);
        Assert.Equal(-1, HalfAsBFloat16Codec.Instance.Encode(data, new ChunkContext(dtype), new byte[data.Length + CodecSelector.Slack]));
        Assert.Equal(-1, HalfAsBFloat16Codec.Instance.Encode([], new ChunkContext(DType.F16), new byte[CodecSelector.Slack]));
        Assert.Throws<WaferDataException>(() => HalfAsBFloat16Codec.Instance.Decode([3, 1], new ChunkContext(DType.BF16), new byte[2]));
    }

    /// <summary>The selector sends F16 chunks of BF16 values to f16-bf16 and true F16 weights to float-split.</summary>
    [Fact]
    public void The_selector_codes_f16_casts_of_bf16_as_bf16()
    {
        byte[] cast = CastToHalf(ChunkSamples.Make(DType.BF16, 100_000, ChunkSamples.Kind.Weights, 8));
        byte[] destination = new byte[cast.Length + CodecSelector.Slack];
        (ChunkCodec codec, int length) = CodecSelector.Encode(cast, DType.F16, CodecChoice.Auto, destination);
        Assert.Same(HalfAsBFloat16Codec.Instance, codec);
        Assert.True(length < cast.Length * 0.7, $"{length} of {cast.Length}");

        byte[] half = ChunkSamples.Make(DType.F16, 100_000, ChunkSamples.Kind.Weights, 8);
        Assert.Same(FloatSplitCodec.Instance, CodecSelector.Encode(half, DType.F16, CodecChoice.Auto, destination).Codec);
    }

    [Fact]
    public void Damaged_payloads_fail_cleanly_or_decode_to_other_bytes()
    {
        byte[] data = CastToHalf(ChunkSamples.Make(DType.BF16, 20_000, ChunkSamples.Kind.Weights, 4));
        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = HalfAsBFloat16Codec.Instance.Encode(data, new ChunkContext(DType.F16), payload);
        for (int i = 0; i < length; i += 1 + (length / 97))
        {
            byte[] damaged = payload.AsSpan(0, length).ToArray();
            damaged[i] ^= (byte)(1 << (i % 8));
            CodecAssert.DecodeDamaged(HalfAsBFloat16Codec.Instance, damaged, DType.F16, data.Length);
        }

        for (int cut = 0; cut < length; cut += 1 + (length / 13))
        {
            Assert.False(CodecAssert.DecodeDamaged(HalfAsBFloat16Codec.Instance, payload.AsSpan(0, cut).ToArray(), DType.F16, data.Length));
        }
    }

    /// <summary>Each BF16 element as F16 by .NET's IEEE cast (to nearest even), as frameworks cast a model.</summary>
    private static byte[] CastToHalf(byte[] bf16)
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
