using System.Buffers.Binary;
using Wafer.Cli.Demo;

namespace Wafer.Tests.Chain;

/// <summary>
/// Writes checkpoints of a pretend training run: BF16 weights, F32 master weights and AdamW-like moments that
/// drift a little each step, as real consecutive checkpoints do, plus trainer_state.json and a config.
/// </summary>
public static class CheckpointSeries
{
    private const int Rows = 96;
    private const int Columns = 128;

    public static string Write(string root, long step)
    {
        string folder = Path.Combine(root, $"checkpoint-{step}");
        Directory.CreateDirectory(folder);
        var weights = new List<(string, string, long[], byte[])>();
        var master = new List<(string, string, long[], byte[])>();
        var optimizer = new List<(string, string, long[], byte[])>();
        for (int layer = 0; layer < 3; layer++)
        {
            float[] values = Values(layer, step);
            byte[] bf16 = new byte[values.Length * 2];
            byte[] f32 = new byte[values.Length * 4];
            byte[] expAvg = new byte[values.Length * 4];
            byte[] expAvgSq = new byte[values.Length * 4];
            var random = new Random((layer * 7919) + (int)step);
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(i * 2), DemoModelGenerator.ToBFloat16(values[i]));
                BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), values[i]);
                float gradient = (float)((random.NextDouble() - 0.5) * 1e-3);
                BinaryPrimitives.WriteSingleLittleEndian(expAvg.AsSpan(i * 4), gradient);
                BinaryPrimitives.WriteSingleLittleEndian(expAvgSq.AsSpan(i * 4), gradient * gradient * 0.1f);
            }

            string name = $"model.layers.{layer}.mlp.up_proj.weight";
            weights.Add((name, "BF16", [Rows, Columns], bf16));
            master.Add((name, "F32", [Rows, Columns], f32));
            optimizer.Add(($"{name}.exp_avg", "F32", [Rows, Columns], expAvg));
            optimizer.Add(($"{name}.exp_avg_sq", "F32", [Rows, Columns], expAvgSq));
        }

        DemoModelGenerator.WriteSafetensors(Path.Combine(folder, "model.safetensors"), weights);
        DemoModelGenerator.WriteSafetensors(Path.Combine(folder, "master_weights.safetensors"), master);
        DemoModelGenerator.WriteSafetensors(Path.Combine(folder, "optimizer.safetensors"), optimizer);
        File.WriteAllText(Path.Combine(folder, "trainer_state.json"), $$"""{"global_step": {{step}}, "epoch": 0.5}""");
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type":"llama"}""");
        return folder;
    }

    /// <summary>The same base weights for every step, each moved by a small step-dependent update.</summary>
    private static float[] Values(int layer, long step)
    {
        var baseRandom = new Random(1000 + layer);
        var drift = new Random((int)(step * 31) + layer);
        float[] values = new float[Rows * Columns];
        for (int i = 0; i < values.Length; i++)
        {
            double weight = (baseRandom.NextDouble() + baseRandom.NextDouble() + baseRandom.NextDouble() - 1.5) * 0.05;
            values[i] = (float)(weight + (step * 1e-5 * Math.Sin(i + layer)) + ((drift.NextDouble() - 0.5) * 1e-4));
        }

        return values;
    }
}
