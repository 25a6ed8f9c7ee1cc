using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Wafer.Codecs;
using Wafer.Delta;
using Wafer.Formats.Safetensors;
using Wafer.Layout;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// <c>codecs [DATA]</c>: for every real model in the data folder, Wafer's chunk codecs next to zstd-3 and the
/// ZipNN-style reference on the same bytes, with the order-0 entropy bound and single- and all-thread speeds.
/// Every chunk is decoded and compared, so a size is only reported for a lossless round trip.
/// </summary>
internal static class CodecCorpusBenchmark
{
    private const int ChunkSize = 4 << 20;

    /// <summary>Timed passes per measurement, at least; the fastest counts.</summary>
    private const int Passes = 5;

    /// <summary>
    /// Bytes a measurement's passes cover, at least: a small model gets more passes, so that its best pass is drawn
    /// from as much of a shared machine's time as a large model's (five passes over 1.7 MB are 8 ms of samples).
    /// </summary>
    private const long SampledBytes = 128L << 20;

    /// <summary>Untimed passes over the first model before anything is timed, so that the JIT's tiers have settled.</summary>
    private const int WarmupPasses = 6;

    private static bool s_warmedUp;

    /// <summary>
    /// A tensor's bytes and descriptor (whose row geometry the packer passes to the codecs), and for F32 master
    /// weights the BF16 twin the packer codes them against when both are in the archive.
    /// </summary>
    private sealed record Tensor(TensorDescriptor Descriptor, byte[] Data, byte[]? Twin = null)
    {
        public DType DType => Descriptor.DType;
    }

    private sealed record Case(string Name, DType DType, List<Tensor> Tensors);

    /// <summary>A chunk as the packer cuts it; <c>Twin</c> is empty unless the tensor has one.</summary>
    private readonly record struct Chunk(DType DType, ArraySegment<byte> Bytes, int RowLength, int FirstColumn, ArraySegment<byte> Twin);

    public static int Run(string[] args)
    {
        string data = args.Length > 0 ? args[0] : DefaultDataFolder();
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"data folder '{data}' not found");
            return 2;
        }

        Console.WriteLine($"Wafer chunk codecs vs zstd-3 and ZipNN-style, {ChunkSize >> 20} MiB chunks, data: {data}");
        Console.WriteLine($"{"model",-34} {"dtype",-6} {"bytes",11} {"zstd3%",7} {"zipnn%",7} {"wafer%",7} {"W/Z",6} {"H0-16%",7} {"H0/t%",7} {"H0t/Z",6} {"bits/v",6} {"encGB/s",7} {"decGB/s",7} {"encAll",7} {"decAll",7} {"z3enc",6} {"z3dec",6}");
        foreach (Case c in Cases(data))
        {
            Report(c);
        }

        return 0;
    }

    private static string DefaultDataFolder()
    {
        for (DirectoryInfo? d = new(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Wafer.slnx")))
            {
                string candidate = Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "data"));
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }

                break;
            }
        }

        return "/work/shared/data";
    }

    private static IEnumerable<Case> Cases(string data)
    {
        string[] bf16Models =
        [
            "bytelm-base/model.safetensors",
            "bytelm-ft-code/model.safetensors",
            "bytelm-ft-doc/model.safetensors",
            "bytelm-base-ckpt/checkpoint-200/model.safetensors",
            "bytelm-base-ckpt/checkpoint-300/model.safetensors",
            "optim-run/checkpoint-80/model.safetensors",
        ];
        foreach (string m in bf16Models)
        {
            string path = Path.Combine(data, m);
            if (File.Exists(path))
            {
                yield return new Case(Path.GetDirectoryName(m)!, DType.BF16, Load(path));
            }
        }

        string basePath = Path.Combine(data, bf16Models[0]);
        if (File.Exists(basePath))
        {
            List<Tensor> bf16 = Load(basePath);
            yield return new Case("bytelm-base as F32 (upcast)", DType.F32, bf16.Select(t => new Tensor(t.Descriptor with { DType = DType.F32 }, Upcast(t.Data))).ToList());
            yield return new Case("bytelm-base as F16 (cast)", DType.F16, bf16.Select(t => new Tensor(t.Descriptor with { DType = DType.F16 }, ToHalf(t.Data))).ToList());
        }

        foreach (string f in new[] { "master_weights", "optimizer" })
        {
            string path = Path.Combine(data, "optim-run", "checkpoint-80", f + ".safetensors");
            if (File.Exists(path))
            {
                yield return new Case("optim-run/checkpoint-80/" + f, DType.F32, Load(path));
            }
        }

        // The same master weights as a checkpoint's archive holds them: beside the BF16 model rounded from them, which
        // the packer pairs them with by name. The ZipNN-style reference has no such mode and codes them alone.
        string master = Path.Combine(data, "optim-run", "checkpoint-80", "master_weights.safetensors");
        string model = Path.Combine(data, "optim-run", "checkpoint-80", "model.safetensors");
        if (File.Exists(master) && File.Exists(model))
        {
            Dictionary<string, Tensor> twins = Load(model).Where(t => t.DType == DType.BF16).ToDictionary(t => t.Descriptor.Name, StringComparer.Ordinal);
            List<Tensor> paired = Load(master).Select(t => twins.TryGetValue(t.Descriptor.Name, out Tensor? twin) && twin.Data.Length * 2 == t.Data.Length ? t with { Twin = twin.Data } : t).ToList();
            yield return new Case("ckpt-80 master_weights + BF16 twin", DType.F32, paired);
        }

        string lora = Path.Combine(data, "lora-gpt2");
        if (Directory.Exists(lora))
        {
            var all = new List<Tensor>();
            foreach (string dir in Directory.GetDirectories(lora, "checkpoint-*").Order(StringComparer.Ordinal))
            {
                string path = Path.Combine(dir, "adapter_model.safetensors");
                if (File.Exists(path))
                {
                    all.AddRange(Load(path));
                }
            }

            if (all.Count > 0)
            {
                yield return new Case("lora-gpt2 (all checkpoints)", DType.F32, all);

                // 16-bit adapters (rounded from F32 to nearest even, as frameworks cast; F16's mantissa bits all live):
                // their rows differ in scale, as the F32 ones' do.
                yield return new Case("lora-gpt2 as F16 (cast)", DType.F16, all.Select(t => new Tensor(t.Descriptor with { DType = DType.F16 }, SingleToHalf(t.Data))).ToList());
                yield return new Case("lora-gpt2 as BF16 (cast)", DType.BF16, all.Select(t => new Tensor(t.Descriptor with { DType = DType.BF16 }, SingleToBFloat16(t.Data))).ToList());
            }
        }
    }

    private static List<Tensor> Load(string path)
    {
        using SafeFileHandle file = File.OpenHandle(path);
        long length = RandomAccess.GetLength(file);
        SafetensorsHeader header = SafetensorsHeader.Read(path, file, length);
        var tensors = new List<Tensor>();
        foreach (SafetensorsEntry e in header.Tensors)
        {
            byte[] bytes = new byte[e.End - e.Begin];
            RandomAccess.Read(file, bytes, header.DataStart + e.Begin);
            tensors.Add(new Tensor(e.Descriptor, bytes));
        }

        return tensors;
    }

    private static byte[] Upcast(byte[] bf16)
    {
        byte[] f32 = new byte[bf16.Length * 2];
        for (int i = 0; i < bf16.Length / 2; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f32.AsSpan(4 * i), (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(2 * i)) << 16);
        }

        return f32;
    }

    private static byte[] ToHalf(byte[] bf16)
    {
        byte[] f16 = new byte[bf16.Length];
        for (int i = 0; i < bf16.Length / 2; i++)
        {
            float f = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(2 * i)) << 16);
            BinaryPrimitives.WriteUInt16LittleEndian(f16.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)f));
        }

        return f16;
    }

    private static byte[] SingleToBFloat16(byte[] f32)
    {
        byte[] bf16 = new byte[f32.Length / 2];
        BaseConversion.RoundToBFloat16Scalar(f32, bf16);
        return bf16;
    }

    private static byte[] SingleToHalf(byte[] f32)
    {
        byte[] f16 = new byte[f32.Length / 2];
        for (int i = 0; i < f16.Length / 2; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2 * i), (Half)BinaryPrimitives.ReadSingleLittleEndian(f32.AsSpan(4 * i)));
        }

        return f16;
    }

    private static void Report(Case c)
    {
        var chunks = new List<Chunk>();
        foreach (Tensor t in c.Tensors)
        {
            for (int s = 0; s < t.Data.Length || (s == 0 && t.Data.Length == 0); s += ChunkSize)
            {
                (int rowLength, int firstColumn) = t.Descriptor.RowGeometry(s);
                int length = Math.Min(ChunkSize, t.Data.Length - s);
                ArraySegment<byte> twin = t.Twin is null ? default : new ArraySegment<byte>(t.Twin, s / 2, length / 2);
                chunks.Add(new Chunk(t.DType, new ArraySegment<byte>(t.Data, s, length), rowLength, firstColumn, twin));
            }
        }

        long original = chunks.Sum(ch => (long)ch.Bytes.Count);
        int passes = (int)Math.Max(Passes, (SampledBytes + original - 1) / Math.Max(1, original));
        var zstd = new Compressor(3);
        byte[][] zstdFrames = chunks.Select(ch => zstd.Wrap(ch.Bytes).ToArray()).ToArray();
        long zstdBytes = chunks.Select((ch, i) => (long)Math.Min(ch.Bytes.Count, zstdFrames[i].Length)).Sum();

        // zstd-3's own single-thread speed on the same chunks, for scale on whatever machine runs this.
        double zstdEncode = double.MaxValue;
        double zstdDecode = double.MaxValue;
        using var decompressor = new Decompressor();
        byte[] zstdOut = new byte[ChunkSize];
        for (int pass = 0; pass < passes; pass++)
        {
            double t0 = ThreadCpuClock.Now();
            foreach (Chunk chunk in chunks)
            {
                zstd.Wrap(chunk.Bytes);
            }

            zstdEncode = Math.Min(zstdEncode, ThreadCpuClock.Now() - t0);
            t0 = ThreadCpuClock.Now();
            foreach (byte[] frame in zstdFrames)
            {
                decompressor.Unwrap(frame, zstdOut, 0);
            }

            zstdDecode = Math.Min(zstdDecode, ThreadCpuClock.Now() - t0);
        }

        long zipnn = c.Tensors.Sum(t => ZipNnStyleReference.Size(t.Data, t.DType, zstd));

        // Single thread: encode every chunk, then decode every chunk and compare.
        // Payload buffers are allocated before timing: the timed loops allocate nothing.
        var payloads = new (ChunkCodec Codec, byte[] Payload)[chunks.Count];
        byte[][] buffers = chunks.Select(ch => new byte[ch.Bytes.Count + CodecSelector.Slack]).ToArray();
        byte[][] spares = chunks.Select(ch => ch.Twin.Count > 0 ? new byte[ch.Bytes.Count + CodecSelector.Slack] : []).ToArray();
        int[] lengths = new int[chunks.Count];
        byte[] decoded = new byte[ChunkSize];
        double encodeSeconds = double.MaxValue;
        double decodeSeconds = double.MaxValue;

        if (!s_warmedUp)
        {
            // The codec path outside the kernels starts in tier-0 code; without this the first model's figures
            // would measure the JIT.
            for (int pass = 0; pass < WarmupPasses; pass++)
            {
                for (int i = 0; i < chunks.Count; i++)
                {
                    (payloads[i].Codec, lengths[i]) = Encode(chunks[i], ref buffers[i], ref spares[i]);
                    Decode(chunks[i], payloads[i].Codec, buffers[i].AsSpan(0, lengths[i]), decoded);
                }

                Thread.Sleep(50);
            }

            s_warmedUp = true;
        }

        // Best of the passes, timed in CPU seconds of this thread, so that neither other work on a shared machine nor
        // the runtime's background compilation counts against the per-thread figure.
        for (int pass = 0; pass < passes; pass++)
        {
            double cpu = ThreadCpuClock.Now();
            for (int i = 0; i < chunks.Count; i++)
            {
                (payloads[i].Codec, lengths[i]) = Encode(chunks[i], ref buffers[i], ref spares[i]);
            }

            encodeSeconds = Math.Min(encodeSeconds, ThreadCpuClock.Now() - cpu);
            cpu = ThreadCpuClock.Now();
            for (int i = 0; i < chunks.Count; i++)
            {
                Decode(chunks[i], payloads[i].Codec, buffers[i].AsSpan(0, lengths[i]), decoded);
            }

            decodeSeconds = Math.Min(decodeSeconds, ThreadCpuClock.Now() - cpu);
        }

        for (int i = 0; i < chunks.Count; i++)
        {
            payloads[i].Payload = buffers[i][..lengths[i]];
            Decode(chunks[i], payloads[i].Codec, payloads[i].Payload, decoded);
            if (!decoded.AsSpan(0, chunks[i].Bytes.Count).SequenceEqual(chunks[i].Bytes))
            {
                throw new InvalidOperationException($"{c.Name}: chunk {i} did not round-trip");
            }
        }

        long wafer = payloads.Sum(p => (long)p.Payload.Length);
        if (Environment.GetEnvironmentVariable("WAFER_BENCH_PLANS") == "1")
        {
            Console.WriteLine(string.Join(" ", payloads.Where(p => p.Codec.Name == "float-split" && p.Payload.Length > 8).Select(p => FloatSplitCodec.Describe(p.Payload)).GroupBy(d => $"m{d.Mode}k{d.JointBits}/{d.SecondBits}").Select(g => $"{g.Key}:{g.Count()}")));
        }


        // All threads: the same work spread over every core, in wall-clock time (CPU time would hide a failure to
        // scale), best of the passes like the one-thread figures: one pass is a single sample of a shared machine.
        // Each pool thread keeps its buffer across passes, so no pass pays for fresh pages.
        double encodeAll = double.MaxValue;
        double decodeAll = double.MaxValue;
        using var scratch = new ThreadLocal<byte[]>(() => new byte[ChunkSize + CodecSelector.Slack]);
        using var spare = new ThreadLocal<byte[]>(() => new byte[ChunkSize + CodecSelector.Slack]);
        for (int pass = 0; pass < passes; pass++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, chunks.Count, i =>
            {
                byte[] buffer = scratch.Value!;
                byte[] other = spare.Value!;
                Encode(chunks[i], ref buffer, ref other);
                (scratch.Value, spare.Value) = (buffer, other);
            });
            encodeAll = Math.Min(encodeAll, sw.Elapsed.TotalSeconds);
            sw.Restart();
            Parallel.For(0, chunks.Count, i => Decode(chunks[i], payloads[i].Codec, payloads[i].Payload, scratch.Value!));
            decodeAll = Math.Min(decodeAll, sw.Elapsed.TotalSeconds);
        }

        string entropy = c.DType is DType.BF16 or DType.F16 ? $"{100.0 * Order0Entropy16(c.Tensors) / original,7:F2}" : $"{"-",7}";
        double? bound = PerTensorBound(c);
        string perTensor = bound is double b ? $"{100.0 * b / original,7:F2} {b / zipnn,6:F4}" : $"{"-",7} {"-",6}";
        long elements = original / DTypes.Size(c.DType);
        string codecs = string.Join(",", payloads.GroupBy(p => p.Codec.Name).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}:{g.Count()}"));
        Console.WriteLine(
            $"{Trim(c.Name, 34),-34} {DTypes.Name(c.DType),-6} {original,11} {100.0 * zstdBytes / original,7:F2} {100.0 * zipnn / original,7:F2} {100.0 * wafer / original,7:F2} " +
            $"{(double)wafer / zipnn,6:F4} {entropy} {perTensor} {8.0 * wafer / elements,6:F3} {original / encodeSeconds / 1e9,7:F3} {original / decodeSeconds / 1e9,7:F3} " +
            $"{original / encodeAll / 1e9,7:F3} {original / decodeAll / 1e9,7:F3} {original / zstdEncode / 1e9,6:F3} {original / zstdDecode / 1e9,6:F3}  [{codecs}]");
    }


    /// <summary>
    /// Encodes a chunk as the packer does: the codec selector's choice, and for a chunk with a twin the residual against
    /// it when that is smaller (its payload then lands in <paramref name="spare"/>, and the two buffers swap).
    /// </summary>
    private static (ChunkCodec Codec, int Length) Encode(in Chunk chunk, ref byte[] buffer, ref byte[] spare)
    {
        (ChunkCodec codec, int length) = CodecSelector.Encode(chunk.Bytes, chunk.DType, CodecChoice.Auto, buffer, chunk.RowLength, chunk.FirstColumn);
        if (chunk.Twin.Count > 0)
        {
            int written = F32Bf16ResidualCodec.Instance.Encode(chunk.Bytes, new ChunkContext(chunk.DType, chunk.Twin), spare);
            if (written >= 0 && written < length)
            {
                (buffer, spare) = (spare, buffer);
                return (F32Bf16ResidualCodec.Instance, written);
            }
        }

        return (codec, length);
    }

    private static void Decode(in Chunk chunk, ChunkCodec codec, ReadOnlySpan<byte> payload, byte[] destination)
    {
        ChunkContext context = codec.NeedsReference ? new ChunkContext(chunk.DType, chunk.Twin) : new ChunkContext(chunk.DType);
        codec.Decode(payload, context, destination.AsSpan(0, chunk.Bytes.Count));
    }

    private static string Trim(string s, int width) => s.Length <= width ? s : s[^width..];

    /// <summary>
    /// The order-0 entropy bound the issue's ratio targets are set against, per tensor as a coder with per-tensor
    /// statistics sees it, in bytes: for 16-bit floats that of whole values; for F32 that of the top 16 bits (sign,
    /// exponent, 7 mantissa bits) plus that of each low byte, so an F32 model of BF16 values has the BF16 bound. An
    /// order-0 coder gets below it only where the statistics change within a tensor; the plug-in estimate is
    /// optimistic for tensors with few values next to the 65,536 symbols. <see langword="null"/> for other dtypes
    /// and for tensors coded against a twin (their bound is conditional on it).
    /// </summary>
    private static double? PerTensorBound(Case c)
    {
        if (c.DType is not (DType.BF16 or DType.F16 or DType.F32) || c.Tensors.Any(t => t.Twin is not null))
        {
            return null;
        }

        double bits = 0;
        long[] top = new long[65536];
        long[] low = new long[256];
        long[] middle = new long[256];
        foreach (Tensor t in c.Tensors)
        {
            Array.Clear(top);
            Array.Clear(low);
            Array.Clear(middle);
            if (c.DType == DType.F32)
            {
                for (int i = 0; i + 3 < t.Data.Length; i += 4)
                {
                    uint value = BinaryPrimitives.ReadUInt32LittleEndian(t.Data.AsSpan(i));
                    top[value >> 16]++;
                    middle[(value >> 8) & 0xFF]++;
                    low[value & 0xFF]++;
                }

                bits += EntropyBits(middle) + EntropyBits(low);
            }
            else
            {
                for (int i = 0; i + 1 < t.Data.Length; i += 2)
                {
                    top[BinaryPrimitives.ReadUInt16LittleEndian(t.Data.AsSpan(i))]++;
                }
            }

            bits += EntropyBits(top);
        }

        return bits / 8;
    }

    /// <summary>Total bits an ideal order-0 coder spends on symbols with these counts.</summary>
    private static double EntropyBits(long[] counts)
    {
        long n = 0;
        foreach (long c in counts)
        {
            n += c;
        }

        double bits = 0;
        foreach (long c in counts)
        {
            if (c > 0)
            {
                bits -= c * Math.Log2((double)c / n);
            }
        }

        return bits;
    }

    /// <summary>Bytes an ideal order-0 coder of whole 16-bit values would need over the whole model.</summary>
    private static double Order0Entropy16(List<Tensor> tensors)
    {
        long[] counts = new long[65536];
        foreach (Tensor t in tensors)
        {
            for (int i = 0; i + 1 < t.Data.Length; i += 2)
            {
                counts[BinaryPrimitives.ReadUInt16LittleEndian(t.Data.AsSpan(i))]++;
            }
        }

        return EntropyBits(counts) / 8;
    }
}
