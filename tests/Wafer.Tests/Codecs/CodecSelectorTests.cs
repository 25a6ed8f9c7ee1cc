using System.Buffers.Binary;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

[Trait("Category", "Kernels")]
public sealed class CodecSelectorTests
{
    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    [InlineData(DType.I64)]
    [InlineData(DType.U8)]
    public void All_zero_and_constant_chunks_use_the_constant_codec(DType dtype)
    {
        byte[] zeros = new byte[DTypes.Size(dtype) * 10_000];
        Assert.Equal("constant", Select(zeros, dtype).Codec.Name);
        byte[] constant = ChunkSamples.Make(dtype, 10_000, ChunkSamples.Kind.Constant, 1);
        (ChunkCodec codec, byte[] payload) = Select(constant, dtype);
        Assert.Equal("constant", codec.Name);
        Assert.Equal(DTypes.Size(dtype), payload.Length);
    }

    [Fact]
    public void Dequantised_values_use_the_palette()
    {
        // int4 weights times a scale: 16 distinct F32 values.
        var rng = new Random(3);
        byte[] data = new byte[4 * 50_000];
        for (int i = 0; i < 50_000; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), (rng.Next(16) - 8) * 0.0173f);
        }

        (ChunkCodec codec, byte[] payload) = Select(data, DType.F32);
        Assert.Equal("palette", codec.Name);
        Assert.True(payload.Length < data.Length / 7, $"palette payload {payload.Length} of {data.Length}");
    }

    [Fact]
    public void F32_holding_bf16_values_costs_what_bf16_costs()
    {
        byte[] bf16 = ChunkSamples.Make(DType.BF16, 100_000, ChunkSamples.Kind.Weights, 9);
        byte[] f32 = new byte[bf16.Length * 2];
        for (int i = 0; i < 100_000; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f32.AsSpan(i * 4), (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(i * 2)) << 16);
        }

        (ChunkCodec codec32, byte[] payload32) = Select(f32, DType.F32);
        (_, byte[] payload16) = Select(bf16, DType.BF16);
        Assert.Equal("float-split", codec32.Name);
        Assert.True(payload32.Length <= payload16.Length + 64, $"F32 {payload32.Length} vs BF16 {payload16.Length}");
        Assert.True(payload32.Length < f32.Length * 0.34, $"F32 holding BF16 values: {payload32.Length} of {f32.Length}");
    }

    [Fact]
    public void F32_holding_f16_values_costs_about_what_f16_costs()
    {
        // Weights of σ = 0.02 stay in F16's normal range, so every F32 value has 13 dead mantissa bits.
        byte[] f16 = ChunkSamples.Make(DType.F16, 100_000, ChunkSamples.Kind.Weights, 12);
        byte[] f32 = new byte[f16.Length * 2];
        for (int i = 0; i < 100_000; i++)
        {
            float value = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(f16.AsSpan(i * 2)));
            BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), value);
        }

        (ChunkCodec codec32, byte[] payload32) = Select(f32, DType.F32);
        (_, byte[] payload16) = Select(f16, DType.F16);
        Assert.Equal("float-split", codec32.Name);
        Assert.True(payload32.Length <= payload16.Length * 1.02, $"F32 {payload32.Length} vs F16 {payload16.Length}");
    }

    [Fact]
    public void Mostly_zero_chunks_use_the_sparse_codec()
    {
        byte[] data = ChunkSamples.Make(DType.F32, 50_000, ChunkSamples.Kind.MostlyZero, 4);
        Assert.Equal("sparse", Select(data, DType.F32).Codec.Name);
    }

    [Fact]
    public void Float_weights_use_float_split_and_beat_zstd()
    {
        byte[] data = ChunkSamples.Make(DType.BF16, 100_000, ChunkSamples.Kind.Weights, 2);
        (ChunkCodec codec, byte[] payload) = Select(data, DType.BF16);
        Assert.Equal("float-split", codec.Name);
        (_, byte[] zstd) = Select(data, DType.BF16, CodecChoice.Zstd);
        Assert.True(payload.Length < zstd.Length);
    }

    [Fact]
    public void Random_bytes_are_stored_raw_and_nothing_grows()
    {
        foreach (DType dtype in ChunkSamples.AllTypes)
        {
            byte[] data = ChunkSamples.Make(dtype, 4097, ChunkSamples.Kind.RandomBits, 8);
            (ChunkCodec codec, byte[] payload) = Select(data, dtype);
            Assert.True(payload.Length <= data.Length, $"{DTypes.Name(dtype)}: {codec.Name} payload {payload.Length} > {data.Length}");
        }

        byte[] opaque = new byte[10_000];
        new Random(1).NextBytes(opaque);
        Assert.Equal("raw", Select(opaque, DType.Opaque).Codec.Name);
    }

    [Fact]
    public void Integer_chunks_use_byte_planes_or_zstd()
    {
        byte[] data = new byte[8 * 20_000];
        for (int i = 0; i < 20_000; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * 8), (i * 7919L) % 50_000);
        }

        string name = Select(data, DType.I64).Codec.Name;
        Assert.Contains(name, new[] { "byte-planes", "zstd" });
    }

    [Fact]
    public void Choices_restrict_the_codecs()
    {
        byte[] data = ChunkSamples.Make(DType.BF16, 10_000, ChunkSamples.Kind.Weights, 6);
        Assert.Equal("raw", Select(data, DType.BF16, CodecChoice.Raw).Codec.Name);
        Assert.Contains(Select(data, DType.BF16, CodecChoice.Zstd).Codec.Name, new[] { "zstd", "raw" });
        Assert.Equal("raw", Select([], DType.BF16).Codec.Name);
    }

    [Fact]
    public void Selection_is_deterministic_and_decodes()
    {
        foreach (DType dtype in ChunkSamples.AllTypes)
        {
            for (int kind = 0; kind < ChunkSamples.KindCount; kind++)
            {
                byte[] data = ChunkSamples.Make(dtype, 3001, (ChunkSamples.Kind)kind, kind);
                (ChunkCodec a, byte[] pa) = Select(data, dtype);
                (ChunkCodec b, byte[] pb) = Select(data, dtype);
                Assert.Same(a, b);
                Assert.Equal(pa, pb);
                Assert.Equal(data, CodecAssert.DecodeGuarded(a, pa, dtype, data.Length));
            }
        }
    }

    private static (ChunkCodec Codec, byte[] Payload) Select(byte[] data, DType dtype, CodecChoice choice = CodecChoice.Auto)
    {
        byte[] destination = new byte[data.Length + CodecSelector.Slack];
        (ChunkCodec codec, int length) = CodecSelector.Encode(data, dtype, choice, destination);
        return (codec, destination.AsSpan(0, length).ToArray());
    }
}
