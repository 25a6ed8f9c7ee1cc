using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Wafer.Archive;
using Wafer.Codecs;
using Wafer.Codecs.Kernels;
using Wafer.Delta;
using Wafer.Formats.Safetensors;
using Wafer.Layout;

namespace Wafer.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Wafer.Bench -- patch [DATA]</c>: for each base→target pair of the
/// shared corpus, the patch size of Wafer next to the BitX-style reference and <c>zstd --patch-from</c>, all
/// measured in this run, with the entropy bound of the ordered-integer difference, diff/apply speed with one encoding
/// or decoding thread (whole commands, wall clock, best of five runs after three untimed ones), and the delta codecs'
/// own speed per thread (<see cref="DeltaCodecSpeed"/>).
/// </summary>
internal static class PatchCorpusBenchmark
{
    /// <summary>Untimed rounds first, so that the runtime has compiled the hot paths at their final tier.</summary>
    private const int WarmupRounds = 3;

    private const int TimedRounds = 5;

    /// <summary>The delta codecs' speed is the best of passes over at least this many target bytes (and at least five).</summary>
    private const long SampledBytes = 64L << 20;

    /// <summary>
    /// The pairs; <c>Cast</c>: which models get their BF16 tensors written as F32 or F16 first (as many hub
    /// repositories store them): both, or only the target (a fine-tune saved in F32 from a BF16 base); or their F32
    /// tensors rounded to F16 and written back as F32 (an F16 model cast up).
    /// </summary>
    private static readonly (string Base, string Target, Cast Cast)[] s_pairs =
    [
        ("bytelm-base", "bytelm-ft-code", Cast.None),
        ("bytelm-base", "bytelm-ft-doc", Cast.None),
        ("bytelm-base-ckpt/checkpoint-200", "bytelm-base-ckpt/checkpoint-300", Cast.None),
        ("bytelm-base-ckpt/checkpoint-300", "bytelm-base", Cast.None),
        ("optim-run/checkpoint-40", "optim-run/checkpoint-80", Cast.None),
        ("lora-gpt2/checkpoint-500", "lora-gpt2/checkpoint-1000", Cast.None),
        ("lora-gpt2/checkpoint-3500", "lora-gpt2/checkpoint-4000", Cast.None),
        ("lora-gpt2/checkpoint-7000", "lora-gpt2/checkpoint-7500", Cast.None),
        ("bytelm-base", "bytelm-ft-code", Cast.BothToF32),
        ("bytelm-base", "bytelm-ft-code", Cast.TargetToF32),
        ("bytelm-base", "bytelm-ft-code", Cast.BothToF16),
        ("lora-gpt2/checkpoint-7000", "lora-gpt2/checkpoint-7500", Cast.BothThroughF16),
    ];

    private enum Cast
    {
        None,
        BothToF32,
        TargetToF32,
        BothToF16,
        BothThroughF16,
    }

    public static int Run(string[] args)
    {
        string data = args.Length > 0 ? args[0] : FindData();
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"patch: data folder '{data}' not found; pass it as the first argument.");
            return 2;
        }

        string? zstd = File.Exists("/usr/bin/zstd") ? "/usr/bin/zstd" : null;
        if (zstd is null)
        {
            Console.WriteLine("note: /usr/bin/zstd not found; the zstd --patch-from column is skipped.");
        }

        string scratch = Path.Combine(Path.GetTempPath(), $"wafer-patch-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        try
        {
            WarmUp(data, scratch);
            Console.WriteLine("pair | target | BitX-style | zstd patch-from | Wafer | Wafer/BitX | Wafer/zstd | H(d|exp) | H(d|exp,prev) | diff GB/s | apply GB/s | delta enc 1T | delta dec 1T");
            Console.WriteLine("---|---|---|---|---|---|---|---|---|---|---|---|---");
            foreach ((string baseName, string targetName, Cast cast) in s_pairs)
            {
                string baseFolder = Path.Combine(data, baseName);
                string targetFolder = Path.Combine(data, targetName);
                if (!Directory.Exists(baseFolder) || !Directory.Exists(targetFolder))
                {
                    Console.WriteLine($"{baseName} → {targetName} | (missing, skipped)");
                    continue;
                }

                DType castTo = cast == Cast.BothToF16 ? DType.F16 : DType.F32;
                if (cast is Cast.BothToF32 or Cast.BothToF16 or Cast.BothThroughF16)
                {
                    baseFolder = CastCopy(baseFolder, Path.Combine(scratch, $"cast-base-{cast}"), castTo, cast == Cast.BothThroughF16);
                }

                if (cast != Cast.None)
                {
                    targetFolder = CastCopy(targetFolder, Path.Combine(scratch, $"cast-target-{cast}"), castTo, cast == Cast.BothThroughF16);
                }

                string label = cast switch
                {
                    Cast.BothToF32 => $"{targetName} (both cast up to F32)",
                    Cast.TargetToF32 => $"{targetName} (target cast up to F32)",
                    Cast.BothToF16 => $"{targetName} (both cast to F16)",
                    Cast.BothThroughF16 => $"{targetName} (both F16 values cast up to F32)",
                    _ => targetName,
                };
                RunPair(baseName, label, baseFolder, targetFolder, zstd, scratch);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        return 0;
    }

    /// <summary>
    /// Runs diff and apply on the first pair present a few times, then waits: the runtime promotes hot methods to
    /// their optimised tier in the background, after a pause in new compilation, so without this the first pair is
    /// timed partly in unoptimised code.
    /// </summary>
    private static void WarmUp(string data, string scratch)
    {
        foreach ((string baseName, string targetName, _) in s_pairs)
        {
            string baseFolder = Path.Combine(data, baseName);
            string targetFolder = Path.Combine(data, targetName);
            if (!Directory.Exists(baseFolder) || !Directory.Exists(targetFolder))
            {
                continue;
            }

            string patch = Path.Combine(scratch, "warm-up.wpatch");
            string rebuilt = Path.Combine(scratch, "warm-up");
            for (int round = 0; round < 2 * WarmupRounds; round++)
            {
                WaferPatch.Diff(baseFolder, targetFolder, patch, new PatchOptions { Threads = 1, Overwrite = true });
                WaferPatch.Apply(baseFolder, patch, rebuilt, new ApplyOptions { Threads = 1 });
                Directory.Delete(rebuilt, recursive: true);
            }

            File.Delete(patch);
            Thread.Sleep(1000);
            return;
        }
    }

    private static void RunPair(string baseName, string targetName, string baseFolder, string targetFolder, string? zstd, string scratch)
    {
        long target = Directory.EnumerateFiles(targetFolder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        string patch = Path.Combine(scratch, "update.wpatch");
        string rebuilt = Path.Combine(scratch, "rebuilt");
        var options = new PatchOptions { Threads = 1, Overwrite = true };

        // Wafer is timed before the references run, after a pause: the runtime recompiles methods that just got hot
        // (the previous pair's references) in the background, and that work would otherwise share the timed rounds'
        // cores. Untimed rounds first, then the best of the timed ones (the machine may be shared).
        Thread.Sleep(500);
        PatchResult result = null!;
        for (int round = 0; round < WarmupRounds; round++)
        {
            result = WaferPatch.Diff(baseFolder, targetFolder, patch, options);
        }

        double diffSeconds = double.MaxValue;
        for (int round = 0; round < TimedRounds; round++)
        {
            // Each round writes a new file, as a user's diff does; replacing the last round's would add its unlinking.
            File.Delete(patch);
            var clock = Stopwatch.StartNew();
            result = WaferPatch.Diff(baseFolder, targetFolder, patch, options);
            diffSeconds = Math.Min(diffSeconds, clock.Elapsed.TotalSeconds);
        }

        double applySeconds = double.MaxValue;
        for (int round = 0; round < WarmupRounds + TimedRounds; round++)
        {
            var clock = Stopwatch.StartNew();
            WaferPatch.Apply(baseFolder, patch, rebuilt, new ApplyOptions { Threads = 1 });
            applySeconds = round < WarmupRounds ? applySeconds : Math.Min(applySeconds, clock.Elapsed.TotalSeconds);
            Directory.Delete(rebuilt, recursive: true);
        }

        long bitx = BitXStyleReference.Size(baseFolder, targetFolder);
        long? patchFrom = zstd is null ? null : ZstdPatchFrom(zstd, baseFolder, targetFolder, scratch);
        (double exponentOnly, double withPrevious) = EntropyBound(baseFolder, targetFolder);
        (double encodeSpeed, double decodeSpeed) = DeltaCodecSpeed(baseFolder, targetFolder);
        string Pct(double bytes) => (100 * bytes / target).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        string Ratio(double a, double? b) => b is double d && d > 0 ? (a / d).ToString("0.000", CultureInfo.InvariantCulture) : "-";
        Console.WriteLine(string.Join(" | ",
            $"{baseName} → {targetName}",
            target.ToString("N0", CultureInfo.InvariantCulture),
            Pct(bitx),
            patchFrom is long p ? Pct(p) : "skipped",
            Pct(result.PatchBytes),
            Ratio(result.PatchBytes, bitx),
            Ratio(result.PatchBytes, patchFrom),
            Pct(exponentOnly),
            Pct(withPrevious),
            (target / diffSeconds / 1e9).ToString("0.00", CultureInfo.InvariantCulture),
            (target / applySeconds / 1e9).ToString("0.00", CultureInfo.InvariantCulture),
            encodeSpeed.ToString("0.00", CultureInfo.InvariantCulture),
            decodeSpeed.ToString("0.00", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// The delta codecs' own speed in GB/s of target bytes per thread: every target tensor with a base tensor of the
    /// same file, name and size, in chunks of the default size, encoded against the base bytes as <c>diff</c> does,
    /// then decoded and compared; best of the passes in CPU seconds of this thread. The whole commands also match
    /// tensors, hash both models (SHA-256 and XXH3) and read and write files.
    /// </summary>
    private static (double Encode, double Decode) DeltaCodecSpeed(string baseFolder, string targetFolder)
    {
        using ModelSource baseModel = ModelSource.Open(baseFolder);
        using ModelSource target = ModelSource.Open(targetFolder);
        var baseTensors = new Dictionary<(string File, string Name), (int File, LayoutSegment Segment)>();
        for (int f = 0; f < baseModel.Files.Count; f++)
        {
            foreach (LayoutSegment segment in baseModel.Files[f].Segments.Where(s => s.Tensor is not null))
            {
                baseTensors.TryAdd((baseModel.Files[f].Path, segment.Tensor!.Name), (f, segment));
            }
        }

        var chunks = new List<(byte[] Target, byte[] Base, DType DType, int RowLength, int FirstColumn)>();
        for (int f = 0; f < target.Files.Count; f++)
        {
            foreach (LayoutSegment segment in target.Files[f].Segments.Where(s => s.Tensor is not null))
            {
                if (!baseTensors.TryGetValue((target.Files[f].Path, segment.Tensor!.Name), out (int File, LayoutSegment Segment) b))
                {
                    continue;
                }

                // A base of another float dtype is converted, as diff converts it, before the timed passes.
                bool converts = BaseConversion.Converts(b.Segment.Tensor!.DTypeName, segment.Tensor.DTypeName, null, out DType baseType, out DType targetType);
                int element = DTypes.Size(segment.Tensor.DType);
                if (converts ? b.Segment.Length / DTypes.Size(baseType) != segment.Length / element : b.Segment.Length != segment.Length)
                {
                    continue;
                }

                for (long at = 0; at < segment.Length; at += ArchiveFormat.DefaultChunkSize)
                {
                    int length = (int)Math.Min(ArchiveFormat.DefaultChunkSize, segment.Length - at);
                    byte[] targetBytes = new byte[length];
                    byte[] baseBytes = new byte[length];
                    target.Read(f, segment.Offset + at, targetBytes);
                    if (converts)
                    {
                        byte[] elements = new byte[length / element * DTypes.Size(baseType)];
                        baseModel.Read(b.File, b.Segment.Offset + (at / element * DTypes.Size(baseType)), elements);
                        BaseConversion.Convert(elements, baseType, baseBytes, targetType);
                    }
                    else
                    {
                        baseModel.Read(b.File, b.Segment.Offset + at, baseBytes);
                    }

                    (int rowLength, int firstColumn) = segment.Tensor.RowGeometry(at);
                    chunks.Add((targetBytes, baseBytes, segment.Tensor.DType, rowLength, firstColumn));
                }
            }
        }

        long bytes = chunks.Sum(c => (long)c.Target.Length);
        if (bytes == 0)
        {
            return (double.NaN, double.NaN);
        }

        // Buffers as diff sizes them, allocated before timing; one untimed pass first for the JIT.
        byte[][] payloads = [.. chunks.Select(c => new byte[(2 * c.Target.Length) + CodecSelector.Slack])];
        var coded = new (ChunkCodec Codec, int Length)[chunks.Count];
        byte[] decoded = new byte[chunks.Max(c => c.Target.Length)];
        int passes = (int)Math.Max(5, (SampledBytes + bytes - 1) / bytes);
        double encodeSeconds = double.MaxValue, decodeSeconds = double.MaxValue;
        for (int pass = -1; pass < passes; pass++)
        {
            double cpu = ThreadCpuClock.Now();
            for (int i = 0; i < chunks.Count; i++)
            {
                coded[i] = DeltaCodecSelector.EncodeTensor(chunks[i].Target, chunks[i].Base, chunks[i].DType, payloads[i], chunks[i].RowLength, chunks[i].FirstColumn);
            }

            encodeSeconds = pass < 0 ? encodeSeconds : Math.Min(encodeSeconds, ThreadCpuClock.Now() - cpu);
            cpu = ThreadCpuClock.Now();
            for (int i = 0; i < chunks.Count; i++)
            {
                Decode(i);
            }

            decodeSeconds = pass < 0 ? decodeSeconds : Math.Min(decodeSeconds, ThreadCpuClock.Now() - cpu);
        }

        for (int i = 0; i < chunks.Count; i++)
        {
            Decode(i);
            if (!decoded.AsSpan(0, chunks[i].Target.Length).SequenceEqual(chunks[i].Target))
            {
                throw new InvalidOperationException($"{targetFolder}: chunk {i} did not round-trip against {baseFolder}");
            }
        }

        return (bytes / encodeSeconds / 1e9, bytes / decodeSeconds / 1e9);

        void Decode(int i)
        {
            ChunkCodec codec = coded[i].Codec;
            codec.Decode(payloads[i].AsSpan(0, coded[i].Length), new ChunkContext(chunks[i].DType, codec.NeedsReference ? chunks[i].Base : default), decoded.AsSpan(0, chunks[i].Target.Length));
        }
    }

    /// <summary>
    /// Copies <paramref name="folder"/> to <paramref name="destination"/> with every BF16 tensor of its safetensors
    /// files written as <paramref name="to"/>: F32 (each value exactly, its low 16 bits zero) or F16 (.NET's IEEE
    /// cast, to nearest even, as frameworks cast); with <paramref name="throughHalf"/>, every F32 tensor's values rounded
    /// to F16 (the same cast) and written back as F32 instead. Returns <paramref name="destination"/>.
    /// </summary>
    private static string CastCopy(string folder, string destination, DType to, bool throughHalf = false)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(destination, Path.GetRelativePath(folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            if (!file.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                File.Copy(file, copy, overwrite: true);
                continue;
            }

            using SafeFileHandle input = File.OpenHandle(file);
            SafetensorsHeader header = SafetensorsHeader.Read(file, input, RandomAccess.GetLength(input));
            var tensors = new List<(TensorDescriptor Descriptor, byte[] Data)>();
            foreach (SafetensorsEntry entry in header.Tensors)
            {
                byte[] bytes = new byte[entry.End - entry.Begin];
                RandomAccess.Read(input, bytes, header.DataStart + entry.Begin);
                if (throughHalf)
                {
                    for (int i = 0; entry.Descriptor.DType == DType.F32 && i < bytes.Length / 4; i++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), (float)(Half)BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i)));
                    }

                    tensors.Add((entry.Descriptor, bytes));
                }
                else if (entry.Descriptor.DType == DType.BF16 && to == DType.F32)
                {
                    byte[] wide = new byte[bytes.Length * 2];
                    HighHalves.WidenScalar(bytes, wide);
                    tensors.Add((entry.Descriptor with { DType = DType.F32, DTypeName = "F32" }, wide));
                }
                else if (entry.Descriptor.DType == DType.BF16)
                {
                    byte[] halves = new byte[bytes.Length];
                    for (int i = 0; i < bytes.Length / 2; i++)
                    {
                        float value = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) << 16);
                        BinaryPrimitives.WriteHalfLittleEndian(halves.AsSpan(2 * i), (Half)value);
                    }

                    tensors.Add((entry.Descriptor with { DType = DType.F16, DTypeName = "F16" }, halves));
                }
                else
                {
                    tensors.Add((entry.Descriptor, bytes));
                }
            }

            using FileStream output = File.Create(copy);
            output.Write(SafetensorsHeader.Build([.. tensors.Select(t => t.Descriptor)], [.. tensors.Select(t => (long)t.Data.Length)], header.Metadata));
            foreach ((_, byte[] data) in tensors)
            {
                output.Write(data);
            }
        }

        return destination;
    }

    /// <summary><c>zstd -19 --long=31 --patch-from=BASE TARGET</c> per file (plain <c>-19</c> where the base lacks the file).</summary>
    private static long ZstdPatchFrom(string zstd, string baseFolder, string targetFolder, string scratch)
    {
        long total = 0;
        string output = Path.Combine(scratch, "patch.zst");
        foreach (string targetFile in Directory.EnumerateFiles(targetFolder, "*", SearchOption.AllDirectories))
        {
            string baseFile = Path.Combine(baseFolder, Path.GetRelativePath(targetFolder, targetFile));
            var start = new ProcessStartInfo(zstd) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string arg in File.Exists(baseFile)
                ? new[] { "-19", "--long=31", $"--patch-from={baseFile}", targetFile, "-o", output, "-f", "-q" }
                : ["-19", targetFile, "-o", output, "-f", "-q"])
            {
                start.ArgumentList.Add(arg);
            }

            using Process process = Process.Start(start)!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"zstd failed on {targetFile}");
            }

            total += new FileInfo(output).Length;
        }

        return total;
    }

    /// <summary>
    /// Order-0 entropy (bytes) of the ordered-integer difference of every float tensor matched by name and size,
    /// conditioned on the base element's exponent, and additionally on the previous difference's magnitude bucket;
    /// all other bytes counted raw. For F32 the symbol is the difference's token (bit length and the next two
    /// bits) and the remaining bits count raw; F32 tensors of BF16 values cast up count their high halves as BF16.
    /// </summary>
    private static (double ExponentOnly, double WithPrevious) EntropyBound(string baseFolder, string targetFolder)
    {
        double exponentOnly = 0, withPrevious = 0;
        foreach (string targetFile in Directory.EnumerateFiles(targetFolder, "*", SearchOption.AllDirectories))
        {
            string baseFile = Path.Combine(baseFolder, Path.GetRelativePath(targetFolder, targetFile));
            long length = new FileInfo(targetFile).Length;
            if (!targetFile.EndsWith(".safetensors", StringComparison.Ordinal) || !File.Exists(baseFile))
            {
                exponentOnly += length;
                withPrevious += length;
                continue;
            }

            byte[] target = File.ReadAllBytes(targetFile);
            byte[] baseBytes = File.ReadAllBytes(baseFile);
            var baseTensors = Segments(baseFile).ToDictionary(s => s.Tensor!.Name);
            var byExponent = new Dictionary<ulong, int>();
            var byExponentAndPrevious = new Dictionary<ulong, int>();
            long covered = 0;
            double rawBits = 0;
            foreach (LayoutSegment segment in Segments(targetFile))
            {
                if (!baseTensors.TryGetValue(segment.Tensor!.Name, out LayoutSegment b) || !FloatFields.TryGet(segment.Tensor.DType, out FloatFields f))
                {
                    continue;
                }

                ReadOnlySpan<byte> t = target.AsSpan((int)segment.Offset, (int)segment.Length);
                ReadOnlySpan<byte> r = baseBytes.AsSpan((int)b.Offset, (int)b.Length);
                if (BaseConversion.Converts(b.Tensor!.DTypeName, segment.Tensor.DTypeName, null, out DType baseType, out DType targetType) && r.Length / DTypes.Size(baseType) == t.Length / f.Width)
                {
                    // A base of another float dtype, converted as diff converts it.
                    byte[] converted = new byte[t.Length];
                    BaseConversion.Convert(r, baseType, converted, targetType);
                    r = converted;
                }

                if (r.Length != t.Length)
                {
                    continue;
                }

                if (OrderedDeltaCodec.NarrowType(t, r, segment.Tensor.DType) is DType narrow)
                {
                    // BF16 values cast up to F32 or to F16, F16 values cast up to F32: their dead bits carry nothing;
                    // the difference of their 16-bit values is what delta-ord codes.
                    byte[] narrowTarget = new byte[t.Length / (f.Width / 2)], narrowBase = new byte[narrowTarget.Length];
                    if (narrow == DType.BF16 && f.Width == 4)
                    {
                        HighHalves.Narrow(t, narrowTarget);
                    }
                    else
                    {
                        BaseConversion.Convert(t, segment.Tensor.DType, narrowTarget, narrow);
                    }

                    BaseConversion.Convert(r, segment.Tensor.DType, narrowBase, narrow);
                    t = narrowTarget;
                    r = narrowBase;
                    FloatFields.TryGet(narrow, out f);
                }

                int previous = 0;
                for (int i = 0; i < t.Length / f.Width; i++)
                {
                    uint rb = f.Read(r, i);
                    uint z = f.ZigZag((f.ToOrdered(f.Read(t, i)) - f.ToOrdered(rb)) & f.ValueMask);
                    uint symbol = z;
                    if (f.Width == 4)
                    {
                        // 32-bit residuals are nearly all distinct in a sample this size: their empirical order-0
                        // entropy would be meaningless. Use the token (bit length + 2 bits) with the rest raw.
                        symbol = (uint)ValueTokens.Token(z, out int extraBits);
                        rawBits += extraBits;
                    }

                    ulong key = ((ulong)f.Exponent(rb) << 32) | symbol;
                    byExponent[key] = byExponent.GetValueOrDefault(key) + 1;
                    ulong withPrev = key | ((ulong)previous << 48);
                    byExponentAndPrevious[withPrev] = byExponentAndPrevious.GetValueOrDefault(withPrev) + 1;
                    previous = z == 0 ? 0 : z < 4 ? 1 : z < 32 ? 2 : 3;
                }

                covered += segment.Length;
            }

            exponentOnly += ((ConditionalEntropyBits(byExponent, 32) + rawBits) / 8) + (length - covered);
            withPrevious += ((ConditionalEntropyBits(byExponentAndPrevious, 32) + rawBits) / 8) + (length - covered);
        }

        return (exponentOnly, withPrevious);
    }

    /// <summary>Σ count × -log2 P(symbol | context), the context being the key's bits above <paramref name="symbolBits"/>.</summary>
    private static double ConditionalEntropyBits(Dictionary<ulong, int> counts, int symbolBits)
    {
        var contextTotals = new Dictionary<ulong, long>();
        foreach ((ulong key, int count) in counts)
        {
            ulong context = key >> symbolBits;
            contextTotals[context] = contextTotals.GetValueOrDefault(context) + count;
        }

        double bits = 0;
        foreach ((ulong key, int count) in counts)
        {
            bits += count * Math.Log2((double)contextTotals[key >> symbolBits] / count);
        }

        return bits;
    }

    private static List<LayoutSegment> Segments(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        return [.. SafetensorsHeader.Read(path, handle, RandomAccess.GetLength(handle)).ToLayout(path).Segments.Where(s => s.Tensor is not null)];
    }

    private static string FindData()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return "../shared/data";
    }
}
