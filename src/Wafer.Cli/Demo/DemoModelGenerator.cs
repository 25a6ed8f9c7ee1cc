using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Wafer.Formats.Safetensors;
using Wafer.Layout;

namespace Wafer.Cli.Demo;

/// <summary>
/// Writes a small Llama-style Hugging Face model folder with realistic weight statistics: two BF16
/// safetensors shards and their index, Gaussian matrices with per-row scales, RMSNorm weights near 1, an
/// F32 rotary buffer, a tied output head (a duplicate the archive stores once), configs, a tokenizer, a
/// model card and a nested folder with a binary file. Deterministic for a given seed.
/// </summary>
internal static class DemoModelGenerator
{
    private const int Vocab = 1024;
    private const int Hidden = 256;
    private const int Intermediate = 704;
    private const int Layers = 4;
    private const int Heads = 4;

    public static void Write(string folder, int seed = 42)
    {
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(Path.Combine(folder, "original"));
        var random = new Random(seed);
        var shards = new[] { new List<(string, string, long[], byte[])>(), new List<(string, string, long[], byte[])>() };
        byte[] embedding = Matrix(random, Vocab, Hidden, 0.02);
        shards[0].Add(("model.embed_tokens.weight", "BF16", [Vocab, Hidden], embedding));
        for (int layer = 0; layer < Layers; layer++)
        {
            var shard = shards[layer < Layers / 2 ? 0 : 1];
            string prefix = $"model.layers.{layer}.";
            shard.Add((prefix + "input_layernorm.weight", "BF16", [Hidden], Norm(random, Hidden)));
            foreach (string projection in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
            {
                shard.Add((prefix + $"self_attn.{projection}.weight", "BF16", [Hidden, Hidden], Matrix(random, Hidden, Hidden, 0.03)));
            }

            shard.Add((prefix + "mlp.gate_proj.weight", "BF16", [Intermediate, Hidden], Matrix(random, Intermediate, Hidden, 0.025)));
            shard.Add((prefix + "mlp.up_proj.weight", "BF16", [Intermediate, Hidden], Matrix(random, Intermediate, Hidden, 0.025)));
            shard.Add((prefix + "mlp.down_proj.weight", "BF16", [Hidden, Intermediate], Matrix(random, Hidden, Intermediate, 0.015)));
            shard.Add((prefix + "post_attention_layernorm.weight", "BF16", [Hidden], Norm(random, Hidden)));
        }

        shards[1].Add(("model.norm.weight", "BF16", [Hidden], Norm(random, Hidden)));
        shards[1].Add(("model.rotary_emb.inv_freq", "F32", [Hidden / Heads / 2], InverseFrequencies(Hidden / Heads)));
        shards[1].Add(("lm_head.weight", "BF16", [Vocab, Hidden], embedding));

        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        long totalSize = 0;
        for (int i = 0; i < shards.Length; i++)
        {
            string name = $"model-{i + 1:00000}-of-{shards.Length:00000}.safetensors";
            WriteSafetensors(Path.Combine(folder, name), shards[i]);
            foreach ((string tensor, _, _, byte[] data) in shards[i])
            {
                weightMap[tensor] = name;
                totalSize += data.Length;
            }
        }

        WriteJson(Path.Combine(folder, "model.safetensors.index.json"), w =>
        {
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", totalSize);
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (KeyValuePair<string, string> pair in weightMap)
            {
                w.WriteString(pair.Key, pair.Value);
            }

            w.WriteEndObject();
        });
        WriteJson(Path.Combine(folder, "config.json"), w =>
        {
            w.WriteString("_name_or_path", "wafer-demo/tiny-llama");
            w.WriteStartArray("architectures");
            w.WriteStringValue("LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteString("model_type", "llama");
            w.WriteNumber("vocab_size", Vocab);
            w.WriteNumber("hidden_size", Hidden);
            w.WriteNumber("intermediate_size", Intermediate);
            w.WriteNumber("num_hidden_layers", Layers);
            w.WriteNumber("num_attention_heads", Heads);
            w.WriteNumber("rms_norm_eps", 1e-5);
            w.WriteBoolean("tie_word_embeddings", true);
            w.WriteString("torch_dtype", "bfloat16");
        });
        WriteJson(Path.Combine(folder, "generation_config.json"), w =>
        {
            w.WriteNumber("bos_token_id", 1);
            w.WriteNumber("eos_token_id", 2);
            w.WriteNumber("max_new_tokens", 128);
        });
        WriteJson(Path.Combine(folder, "tokenizer.json"), w =>
        {
            w.WriteString("version", "1.0");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteStartObject("vocab");
            for (int token = 0; token < Vocab; token++)
            {
                w.WriteNumber(TokenText(token), token);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });
        WriteJson(Path.Combine(folder, "tokenizer_config.json"), w =>
        {
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteNumber("model_max_length", 2048);
        });
        WriteJson(Path.Combine(folder, "special_tokens_map.json"), w =>
        {
            w.WriteString("bos_token", "<s>");
            w.WriteString("eos_token", "</s>");
        });
        File.WriteAllText(Path.Combine(folder, "README.md"), "# tiny-llama (Wafer demo)\n\nA generated model folder with Llama tensor names and realistic weight statistics.\n");
        WriteJson(Path.Combine(folder, "original", "params.json"), w =>
        {
            w.WriteNumber("dim", Hidden);
            w.WriteNumber("n_layers", Layers);
        });
        byte[] meta = new byte[4096];
        random.NextBytes(meta);
        File.WriteAllBytes(Path.Combine(folder, "original", "consolidated.meta"), meta);
    }

    /// <summary>Writes a safetensors file with an 8-byte aligned header, tensors in the order given.</summary>
    internal static void WriteSafetensors(string path, IReadOnlyList<(string Name, string DType, long[] Shape, byte[] Data)> tensors)
    {
        byte[] header = SafetensorsHeader.Build(
            [.. tensors.Select(t => new TensorDescriptor(t.Name, t.DType, DTypes.TryParse(t.DType, out DType d) ? d : DType.Opaque, t.Shape))],
            [.. tensors.Select(t => (long)t.Data.Length)],
            new Dictionary<string, string> { ["format"] = "pt" });
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        stream.Write(header);
        foreach ((_, _, _, byte[] data) in tensors)
        {
            stream.Write(data);
        }
    }

    /// <summary>Gaussian weights in BF16 with a log-normal scale per row, as trained linear layers have.</summary>
    internal static byte[] Matrix(Random random, int rows, int columns, double std)
    {
        byte[] data = new byte[checked(rows * columns * 2)];
        for (int row = 0; row < rows; row++)
        {
            double scale = std * Math.Exp(0.2 * Gaussian(random));
            for (int column = 0; column < columns; column++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan((row * columns + column) * 2), ToBFloat16((float)(scale * Gaussian(random))));
            }
        }

        return data;
    }

    private static byte[] Norm(Random random, int size)
    {
        byte[] data = new byte[size * 2];
        for (int i = 0; i < size; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), ToBFloat16((float)(1 + 0.05 * Gaussian(random))));
        }

        return data;
    }

    private static byte[] InverseFrequencies(int headDim)
    {
        byte[] data = new byte[headDim / 2 * 4];
        for (int i = 0; i < headDim / 2; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), (float)(1.0 / Math.Pow(10000, 2.0 * i / headDim)));
        }

        return data;
    }

    /// <summary>float → bfloat16 with round-to-nearest-even, as torch's <c>.to(torch.bfloat16)</c> does.</summary>
    internal static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static string TokenText(int token) => token switch
    {
        0 => "<unk>",
        1 => "<s>",
        2 => "</s>",
        < 259 => string.Create(CultureInfo.InvariantCulture, $"<0x{token - 3:X2}>"),
        _ => "▁" + string.Concat(Enumerable.Range(0, 1 + (token % 5)).Select(k => (char)('a' + ((token * 7 + k * 3) % 26)))) + token.ToString(CultureInfo.InvariantCulture),
    };

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        stream.Write(Encoding.UTF8.GetBytes("\n"));
        File.WriteAllBytes(path, stream.ToArray());
    }
}
