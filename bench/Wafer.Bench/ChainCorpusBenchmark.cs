using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Wafer.Layout;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// <c>chain [DATA]</c>: for each training run in the shared data, the raw bytes, the sum of per-checkpoint
/// archives, the chain's bytes, and the reference the chain must beat (ZipNN-style size of the first
/// checkpoint plus BitX-style deltas between consecutive checkpoints), with bytes per tensor kind (weights,
/// master weights, exp_avg, exp_avg_sq, other) and the time of restoring the newest checkpoint from the chain
/// against unpacking its own archive, all in one run.
/// </summary>
internal static class ChainCorpusBenchmark
{
    public static int Run(string[] args)
    {
        string? data = BenchData.Locate(args);
        if (data is null)
        {
            Console.WriteLine("Shared data not found (pass a folder, set WAFER_DATA, or place it at ../shared/data).");
            return 0;
        }

        var runs = new List<(string Name, List<(string Folder, long Step)> Checkpoints)>
        {
            ("bytelm BF16 run", [(Path.Combine(data, "bytelm-base-ckpt/checkpoint-200"), 200), (Path.Combine(data, "bytelm-base-ckpt/checkpoint-300"), 300), (Path.Combine(data, "bytelm-base"), 400)]),
            ("optim-run", [(Path.Combine(data, "optim-run/checkpoint-40"), 40), (Path.Combine(data, "optim-run/checkpoint-80"), 80), (Path.Combine(data, "optim-run/final"), 120)]),
            ("optim-run-torch", [(Path.Combine(data, "optim-run-torch/checkpoint-40"), 40), (Path.Combine(data, "optim-run-torch/checkpoint-80"), 80)]),
            ("lora-gpt2", [.. Directory.GetDirectories(Path.Combine(data, "lora-gpt2"), "checkpoint-*")
                .Select(d => (d, long.Parse(Path.GetFileName(d)["checkpoint-".Length..], CultureInfo.InvariantCulture)))
                .OrderBy(c => c.Item2)]),
        };

        string scratch = Path.Combine(Path.GetTempPath(), "wafer-chain-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            Console.WriteLine($"Wafer chain benchmark: {Environment.ProcessorCount} cores; reference = ZipNN-style(first checkpoint) + Σ BitX-style(consecutive deltas)");
            Console.WriteLine();
            Console.WriteLine("| run | checkpoints | raw | per-checkpoint archives | chain | reference | chain / reference | chain / archives | get newest / unpack own archive |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            var kinds = new List<string>();
            foreach ((string name, List<(string Folder, long Step)> checkpoints) in runs)
            {
                if (checkpoints.Count == 0 || !checkpoints.All(c => Directory.Exists(c.Folder)))
                {
                    Console.WriteLine($"| {name} | missing | | | | | | | |");
                    continue;
                }

                (string row, string kindRow) = Measure(name, checkpoints, Path.Combine(scratch, name.Replace(' ', '-')));
                Console.WriteLine(row);
                kinds.Add(kindRow);
            }

            Console.WriteLine();
            Console.WriteLine("Chain bytes per tensor kind (stored / original):");
            Console.WriteLine();
            Console.WriteLine("| run | weights | master weights | exp_avg | exp_avg_sq | other tensors | non-tensor bytes |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            kinds.ForEach(Console.WriteLine);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        return 0;
    }

    private static (string Row, string Kinds) Measure(string name, List<(string Folder, long Step)> checkpoints, string work)
    {
        Directory.CreateDirectory(work);
        long raw = checkpoints.Sum(c => BenchData.FolderBytes(c.Folder));
        long archives = 0;
        string newestArchive = "";
        foreach ((string folder, long step) in checkpoints)
        {
            newestArchive = Path.Combine(work, $"{step}.wafer");
            archives += WaferPacker.Pack(folder, newestArchive, new PackOptions { Overwrite = true }).ArchiveBytes;
        }

        string chain = Path.Combine(work, "run.wchain");
        foreach ((string folder, long step) in checkpoints)
        {
            WaferChain.Add(chain, folder, new ChainAddOptions { Step = step, MaxDepth = 16 });
        }

        long chainBytes = WaferChain.List(chain).Sum(e => e.StoredBytes);
        long reference = ZipNnFolderSize(checkpoints[0].Folder);
        for (int i = 1; i < checkpoints.Count; i++)
        {
            reference += BitXStyleReference.Size(checkpoints[i - 1].Folder, checkpoints[i].Folder);
        }

        long newest = checkpoints[^1].Step;
        double chainGet = BestSeconds(() => WaferChain.Get(chain, newest, Path.Combine(work, "get"), new UnpackOptions { Overwrite = true }));
        double unpack = BestSeconds(() =>
        {
            using WaferArchive archive = WaferArchive.Open(newestArchive);
            archive.Unpack(Path.Combine(work, "unpack"), new UnpackOptions { Overwrite = true });
        });

        string row = string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {checkpoints.Count} | {raw:N0} | {archives:N0} ({100.0 * archives / raw:0.0}%) | {chainBytes:N0} ({100.0 * chainBytes / raw:0.0}%) | {reference:N0} | " +
            $"{(double)chainBytes / reference:0.000} | {(double)chainBytes / archives:0.000} | {chainGet / unpack:0.00}× ({chainGet * 1000:0} / {unpack * 1000:0} ms) |");
        return (row, KindRow(name, chain));
    }

    private static double BestSeconds(Action action)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return best;
    }

    /// <summary>Stored and original bytes per tensor kind over every file of the chain.</summary>
    private static string KindRow(string name, string chain)
    {
        string[] labels = ["weights", "master weights", "exp_avg", "exp_avg_sq", "other tensors"];
        long[] stored = new long[labels.Length + 1];
        long[] original = new long[labels.Length + 1];
        foreach (string file in Directory.EnumerateFiles(chain).Where(f => f.EndsWith(".wafer", StringComparison.Ordinal) || f.EndsWith(".wpatch", StringComparison.Ordinal)))
        {
            using WaferArchive archive = WaferArchive.Open(file);
            long tensorStored = 0;
            foreach (ArchiveTensor tensor in archive.Tensors)
            {
                int kind = Kind(tensor);
                stored[kind] += tensor.StoredSize;
                original[kind] += tensor.Size;
                tensorStored += tensor.StoredSize;
            }

            stored[^1] += Math.Max(0, archive.Length - tensorStored);
            original[^1] += archive.Files.Sum(f => f.Size) - archive.Tensors.Sum(t => t.Size);
        }

        var cells = new List<string>();
        for (int i = 0; i < stored.Length; i++)
        {
            cells.Add(original[i] == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{stored[i]:N0} / {original[i]:N0} ({100.0 * stored[i] / original[i]:0.0}%)"));
        }

        return $"| {name} | {string.Join(" | ", cells)} |";
    }

    private static int Kind(ArchiveTensor tensor)
    {
        string name = tensor.Name;
        if (name.EndsWith("exp_avg_sq", StringComparison.Ordinal))
        {
            return 3;
        }

        if (name.EndsWith("exp_avg", StringComparison.Ordinal))
        {
            return 2;
        }

        if (tensor.File.Path.Contains("master", StringComparison.OrdinalIgnoreCase))
        {
            return 1;
        }

        return DTypes.IsFloat(tensor.DType) && tensor.Size > 64 ? 0 : 4;
    }

    /// <summary>ZipNN-style size of a folder: float tensors by the reference, everything else zstd-3.</summary>
    private static long ZipNnFolderSize(string folder)
    {
        using var zstd = new Compressor(3);
        long total = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            byte[] bytes = File.ReadAllBytes(file);
            FileLayout layout;
            using (SafeFileHandle handle = File.OpenHandle(file))
            {
                layout = FileLayoutDetector.Detect(Path.GetFileName(file), handle, bytes.Length);
            }

            foreach (LayoutSegment segment in layout.Segments)
            {
                ReadOnlySpan<byte> span = bytes.AsSpan((int)segment.Offset, (int)segment.Length);
                total += segment.Tensor is { DType: DType.BF16 or DType.F16 or DType.F32 } tensor
                    ? ZipNnStyleReference.Size(span, tensor.DType, zstd)
                    : span.IsEmpty ? 0 : zstd.Wrap(span).Length;
            }
        }

        return total;
    }
}
