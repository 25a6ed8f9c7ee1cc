using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Wafer.Bench;

/// <summary>
/// <c>archive [DATA] [--large GiB]</c>: for every model folder in the shared data, the original bytes, the
/// archive bytes, pack and unpack MB/s on one thread and on all cores, and the peak resident set of each,
/// next to zstd -3 on the same files in the same run. <c>--large</c> adds a generated BF16 model of that
/// many GiB to show memory does not grow with model size.
/// </summary>
internal static class ArchiveCorpusBenchmark
{
    public static int Run(string[] args)
    {
        int largeIndex = Array.IndexOf(args, "--large");
        string? data = BenchData.Locate(largeIndex >= 0 ? [.. args[..largeIndex], .. args[Math.Min(args.Length, largeIndex + 2)..]] : args);
        var folders = new List<(string Name, string Path)>();
        if (data is not null)
        {
            folders.AddRange(Directory.GetDirectories(data).Order(StringComparer.Ordinal).Select(d => (Path.GetFileName(d), d)));
        }
        else
        {
            Console.WriteLine("Shared data not found (pass a folder, set WAFER_DATA, or place it at ../shared/data); only --large runs.");
        }

        string scratch = Path.Combine(Path.GetTempPath(), "wafer-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(scratch);
        try
        {
            if (largeIndex >= 0 && largeIndex + 1 < args.Length)
            {
                double gib = double.Parse(args[largeIndex + 1], CultureInfo.InvariantCulture);
                string large = Path.Combine(scratch, "large-model");
                WriteLargeModel(large, (long)(gib * (1L << 30)));
                folders.Add(($"generated-{gib:0.#}GiB", large));
            }

            Console.WriteLine($"Wafer archive benchmark: {Environment.ProcessorCount} cores, zstd baseline: {(ZstdBaseline.HasCli ? "zstd CLI -3 -T1" : "ZstdSharp level 3")}");
            Console.WriteLine();
            Console.WriteLine("| model | original | zstd-3 | Wafer | Wafer/zstd | pack MB/s 1T | pack MB/s all | unpack MB/s 1T | unpack MB/s all | zstd-3 MB/s 1T | peak RSS pack | peak RSS unpack |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach ((string name, string path) in folders)
            {
                Console.WriteLine(Row(name, path, scratch));
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        return 0;
    }

    private static string Row(string name, string folder, string scratch)
    {
        long original = BenchData.FolderBytes(folder);
        (long zstdBytes, double zstdSeconds) = ZstdBaseline.Compress(folder);
        string archive = Path.Combine(scratch, name + ".wafer");
        ChildMeasurement.Sample pack1 = ChildMeasurement.Run("pack", folder, archive, 1);
        ChildMeasurement.Sample packAll = ChildMeasurement.Run("pack", folder, archive, 0);
        long archiveBytes = new FileInfo(archive).Length;
        string restored = Path.Combine(scratch, name + "-restored");
        ChildMeasurement.Sample unpack1 = ChildMeasurement.Run("unpack", archive, restored, 1);
        Directory.Delete(restored, recursive: true);
        ChildMeasurement.Sample unpackAll = ChildMeasurement.Run("unpack", archive, restored, 0);
        Directory.Delete(restored, recursive: true);
        File.Delete(archive);
        double mb = original / 1e6;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {original:N0} | {Percent(zstdBytes, original)} | {Percent(archiveBytes, original)} | {(double)archiveBytes / zstdBytes:0.000} | " +
            $"{mb / pack1.Seconds:0} | {mb / packAll.Seconds:0} | {mb / unpack1.Seconds:0} | {mb / unpackAll.Seconds:0} | {mb / zstdSeconds:0} | " +
            $"{pack1.PeakRssBytes / 1e6:0} / {packAll.PeakRssBytes / 1e6:0} MB | {unpack1.PeakRssBytes / 1e6:0} / {unpackAll.PeakRssBytes / 1e6:0} MB |");
    }

    private static string Percent(long part, long whole) => string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:0.0}%");

    /// <summary>A single-file BF16 model of about <paramref name="bytes"/>, written in 64 MiB tensors, Gaussian-like values.</summary>
    private static void WriteLargeModel(string folder, long bytes)
    {
        Directory.CreateDirectory(folder);
        const int tensorBytes = 64 << 20;
        int count = (int)Math.Max(1, bytes / tensorBytes);
        var header = new StringBuilder("{");
        for (int i = 0; i < count; i++)
        {
            header.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}\"layers.{i}.weight\":{{\"dtype\":\"BF16\",\"shape\":[{tensorBytes / 2 / 4096},4096],\"data_offsets\":[{(long)i * tensorBytes},{(long)(i + 1) * tensorBytes}]}}");
        }

        header.Append('}');
        while (header.Length % 8 != 0)
        {
            header.Append(' ');
        }

        using var stream = new FileStream(Path.Combine(folder, "model.safetensors"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header.ToString()));
        var random = new Random(11);
        byte[] buffer = new byte[tensorBytes];
        for (int j = 0; j < buffer.Length; j += 2)
        {
            // Sum of uniforms ≈ Gaussian; scaled like a trained linear layer.
            float value = (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 0.04);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(j), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
        }

        for (int i = 0; i < count; i++)
        {
            // Perturb every 4 MiB block so that no chunk repeats and deduplication cannot shrink the work.
            for (int block = 0; block < buffer.Length; block += 4 << 20)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(block), (i * 1000) + block);
            }

            stream.Write(buffer);
        }
    }
}
