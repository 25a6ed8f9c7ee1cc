using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Archive;

/// <summary>
/// Writes a model folder that exercises every path of pack/unpack: every dtype, a scalar, empty tensors,
/// an unknown dtype, tensors of chunk size ± 1, two shards with an index, a duplicate tensor, empty, binary
/// and nested extra files.
/// </summary>
public static class ModelFolderFixture
{
    public const int SmallChunk = 4096;

    public static void Write(string folder, int seed = 7)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(Path.Combine(folder, "nested", "deeper"));
        var dtypes = new (string Name, int Size)[]
        {
            ("F64", 8), ("F32", 4), ("F16", 2), ("BF16", 2), ("F8_E4M3", 1), ("F8_E5M2", 1),
            ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("U64", 8), ("U32", 4), ("U16", 2), ("U8", 1), ("BOOL", 1),
        };
        var shard1 = new List<(string, string, long[], int)>();
        foreach ((string name, int size) in dtypes)
        {
            shard1.Add(($"every.{name}", name, [3, 37], size));
        }

        shard1.Add(("scalar", "F32", [], 4));
        shard1.Add(("empty", "BF16", [0, 16], 2));
        shard1.Add(("opaque.quant", "Q4_K", [144], 1));
        File.WriteAllBytes(Path.Combine(folder, "model-00001-of-00002.safetensors"), SafetensorsBuilder.Dense(random, [.. shard1]));

        // Tensors straddling the small chunk size: one byte short, exact, one byte over (U8), and vector-width neighbours.
        File.WriteAllBytes(
            Path.Combine(folder, "model-00002-of-00002.safetensors"),
            SafetensorsBuilder.Dense(
                random,
                ("chunk.minus", "U8", [SmallChunk - 1], 1),
                ("chunk.exact", "BF16", [SmallChunk / 2], 2),
                ("chunk.plus", "U8", [SmallChunk + 1], 1),
                ("chunks.many", "F32", [SmallChunk * 3 / 4 + 5], 4),
                ("vector.31", "BF16", [31], 2),
                ("vector.33", "BF16", [33], 2)));
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), """{"metadata":{"total_size":1},"weight_map":{"scalar":"model-00001-of-00002.safetensors"}}""");
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type":"llama","hidden_size":37}""");
        File.WriteAllBytes(Path.Combine(folder, "empty.txt"), []);
        byte[] binary = new byte[10_000];
        random.NextBytes(binary);
        File.WriteAllBytes(Path.Combine(folder, "nested", "deeper", "blob.bin"), binary);
        File.WriteAllText(Path.Combine(folder, "nested", "tokenizer.json"), string.Concat(Enumerable.Repeat("{\"token\":1}", 500)));

        // A plain copy of a shard under another name: every chunk of it deduplicates.
        File.Copy(Path.Combine(folder, "model-00002-of-00002.safetensors"), Path.Combine(folder, "nested", "copy.safetensors"));
    }
}
