using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Wafer.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        Argument<string> archive = CommonOptions.Archive();
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var command = new Command("info", "Show files, tensor counts, dtypes, and stored size per dtype and codec.") { archive, json };
        command.SetAction(parse =>
        {
            using WaferArchive opened = WaferArchive.Open(parse.GetValue(archive)!);
            IReadOnlyList<CodecUsage> usage = opened.GetCodecUsage();
            if (parse.GetValue(json))
            {
                using var writer = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                writer.WriteStartObject();
                writer.WriteString("archive", opened.Path);
                writer.WriteNumber("archiveBytes", opened.Length);
                writer.WriteNumber("originalBytes", opened.OriginalBytes);
                writer.WriteNumber("tensors", opened.Tensors.Count);
                writer.WriteString("kind", opened.IsPatch ? "patch" : "archive");
                if (opened.IsPatch && opened.Manifest.Info is { } info)
                {
                    writer.WriteStartObject("changes");
                    foreach (KeyValuePair<string, string> pair in info.Where(p => p.Key.StartsWith("tensors.", StringComparison.Ordinal) || p.Key.StartsWith("files.", StringComparison.Ordinal)))
                    {
                        if (long.TryParse(pair.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                        {
                            writer.WriteNumber(pair.Key, count);
                        }
                    }

                    writer.WriteEndObject();
                }
                writer.WriteStartArray("files");
                foreach (ArchiveFile file in opened.Files)
                {
                    writer.WriteStartObject();
                    writer.WriteString("path", file.Path);
                    writer.WriteNumber("size", file.Size);
                    writer.WriteString("format", file.Format);
                    writer.WriteString("sha256", file.Sha256);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteStartArray("codecs");
                foreach (CodecUsage row in usage)
                {
                    writer.WriteStartObject();
                    writer.WriteString("dtype", row.DType);
                    writer.WriteString("codec", row.Codec);
                    writer.WriteNumber("chunks", row.Chunks);
                    writer.WriteNumber("originalBytes", row.OriginalBytes);
                    writer.WriteNumber("storedBytes", row.StoredBytes);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.Flush();
                Console.WriteLine();
                return ExitCodes.Success;
            }

            Console.WriteLine($"{opened.Path}");
            Console.WriteLine($"  {opened.Files.Count} files, {opened.Tensors.Count} tensors, chunk size {ByteSize.Format(opened.ChunkSize)}");
            Console.WriteLine($"  original {ByteSize.Format(opened.OriginalBytes)}, stored {ByteSize.Format(opened.Length)} ({ByteSize.Percent(opened.Length, opened.OriginalBytes)})");
            if (opened.IsPatch)
            {
                PatchFacts(opened);
            }

            var files = new Table().Border(TableBorder.Simple).AddColumns("file", "format", "size", "tensors");
            foreach (ArchiveFile file in opened.Files)
            {
                int tensors = opened.Tensors.Count(t => ReferenceEquals(t.File, file));
                files.AddRow(Markup.Escape(file.Path), file.Format, ByteSize.Format(file.Size), tensors.ToString(CultureInfo.InvariantCulture));
            }

            var codecs = new Table().Border(TableBorder.Simple).AddColumns("dtype", "codec", "chunks", "original", "stored", "ratio", "bits/value");
            foreach (CodecUsage row in usage)
            {
                int width = DTypes.TryParse(row.DType, out DType dtype) ? DTypes.Size(dtype) * 8 : 8;
                string bits = row.OriginalBytes == 0 ? "-" : (width * (double)row.StoredBytes / row.OriginalBytes).ToString("0.000", CultureInfo.InvariantCulture);
                codecs.AddRow(row.DType, row.Codec, row.Chunks.ToString(CultureInfo.InvariantCulture), ByteSize.Format(row.OriginalBytes), ByteSize.Format(row.StoredBytes), ByteSize.Percent(row.StoredBytes, row.OriginalBytes), bits);
            }

            IAnsiConsole console = StandardOutput.Create();
            console.Write(files);
            console.Write(codecs);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A patch's base requirements and change counts (from its manifest's info).</summary>
    private static void PatchFacts(WaferArchive patch)
    {
        Archive.Manifest.ManifestDocument manifest = patch.Manifest;
        Console.WriteLine($"  patch: needs {manifest.BaseFiles?.Count ?? 0} base files and {manifest.BaseTensors?.Count ?? 0} base tensors (checked by hash on apply)");
        SortedDictionary<string, string> info = manifest.Info ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
        string Count(string key) => info.TryGetValue(key, out string? value) ? value : "?";
        Console.WriteLine($"  tensors: {Count("tensors.unchanged")} unchanged, {Count("tensors.modified")} modified ({Count("tensors.reshaped")} reshaped), {Count("tensors.added")} added, {Count("tensors.removed")} removed, {Count("tensors.renamed")} renamed");
        Console.WriteLine($"  files:   {Count("files.unchanged")} unchanged, {Count("files.modified")} modified, {Count("files.added")} added, {Count("files.removed")} removed, {Count("files.renamed")} renamed");
    }
}
