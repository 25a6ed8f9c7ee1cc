using System.Buffers.Binary;
using Wafer.Codecs;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Codecs;

/// <summary>Lossless round trips and ratios on the real trained weights (skipped where the data folder is absent).</summary>
public sealed class RealWeightsTests
{
    private const int ChunkSize = 4 << 20;

    [RealDataFact]
    public void Bf16_model_round_trips_and_beats_the_zipnn_share()
    {
        // ZipNN-style measures 66.2% on this model; the order-0 bound of 16-bit values is 65.3%.
        double ratio = RoundTripRatio(RealWeights.Tensors("bytelm-base/model.safetensors"));
        Assert.True(ratio < 0.658, $"bytelm-base BF16 stored at {ratio:P2}");
    }

    [RealDataFact]
    public void F32_holding_bf16_values_stays_under_34_percent()
    {
        var upcast = RealWeights.Tensors("bytelm-base/model.safetensors").Take(12).Select(t =>
        {
            byte[] f32 = new byte[t.Bytes.Length * 2];
            for (int i = 0; i < t.Bytes.Length / 2; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(f32.AsSpan(i * 4), (uint)BinaryPrimitives.ReadUInt16LittleEndian(t.Bytes.AsSpan(i * 2)) << 16);
            }

            return (DType.F32, f32);
        }).ToList();
        double ratio = RoundTripRatio(upcast);
        Assert.True(ratio <= 0.34, $"upcast F32 stored at {ratio:P2}");
    }

    [RealDataFact]
    public void F32_optimizer_state_and_lora_adapters_round_trip_below_zstd()
    {
        foreach (string file in new[] { "optim-run/checkpoint-80/optimizer.safetensors", "optim-run/checkpoint-80/master_weights.safetensors", "lora-gpt2/checkpoint-7500/adapter_model.safetensors" })
        {
            List<(DType, byte[])> tensors = RealWeights.Tensors(file);
            double ratio = RoundTripRatio(tensors);

            // zstd-3 manages 89.7%, 92.6% and 92.7% on these files; float-split stays under 83.5%.
            Assert.True(ratio < 0.835, $"{file} stored at {ratio:P2}");
        }
    }

    private static double RoundTripRatio(List<(DType DType, byte[] Bytes)> tensors)
    {
        long original = 0;
        long stored = 0;
        byte[] destination = new byte[ChunkSize + CodecSelector.Slack];
        byte[] decoded = new byte[ChunkSize];
        foreach ((DType dtype, byte[] bytes) in tensors)
        {
            for (int start = 0; start < bytes.Length; start += ChunkSize)
            {
                ReadOnlySpan<byte> chunk = bytes.AsSpan(start, Math.Min(ChunkSize, bytes.Length - start));
                (ChunkCodec codec, int length) = CodecSelector.Encode(chunk, dtype, CodecChoice.Auto, destination);
                codec.Decode(destination.AsSpan(0, length), new ChunkContext(dtype), decoded.AsSpan(0, chunk.Length));
                Assert.True(decoded.AsSpan(0, chunk.Length).SequenceEqual(chunk), $"{codec.Name} chunk did not round-trip");
                original += chunk.Length;
                stored += length;
            }
        }

        return (double)stored / original;
    }
}
