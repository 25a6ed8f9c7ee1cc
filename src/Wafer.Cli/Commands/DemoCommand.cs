using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Spectre.Console;
using Wafer.Cli.Demo;
using Wafer.Codecs;

namespace Wafer.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the generated folder, archive and restored copy." };
        var folder = new Option<string>("--dir") { Description = "Work in this folder instead of a new temporary one." };
        var command = new Command("demo", "Generate a small model folder, pack it, unpack it, and prove every file comes back byte-identical.") { keep, folder };
        command.SetAction((parse, cancellationToken) =>
        {
            string root = parse.GetValue(folder) ?? Path.Combine(Path.GetTempPath(), "wafer-demo-" + Guid.NewGuid().ToString("N")[..8]);
            string model = Path.Combine(root, "tiny-llama");
            string archive = Path.Combine(root, "tiny-llama.wafer");
            string zstdArchive = Path.Combine(root, "tiny-llama.zstd.wafer");
            string restored = Path.Combine(root, "restored");
            try
            {
                return Task.FromResult(Run(model, archive, zstdArchive, restored, cancellationToken));
            }
            finally
            {
                if (!parse.GetValue(keep))
                {
                    Directory.Delete(root, recursive: true);
                }
                else
                {
                    Console.WriteLine($"Kept everything under {root}");
                }
            }
        });
        return command;
    }

    private static int Run(string model, string archive, string zstdArchive, string restored, CancellationToken cancellationToken)
    {
        Console.WriteLine($"1. Generating a small Llama-style model folder in {model}");
        DemoModelGenerator.Write(model);

        Console.WriteLine("2. Packing it with Wafer's default codecs");
        var clock = Stopwatch.StartNew();
        PackResult packed = WaferPacker.Pack(model, archive, new PackOptions(), null, cancellationToken);
        double packSeconds = clock.Elapsed.TotalSeconds;
        PackResult zstdOnly = WaferPacker.Pack(model, zstdArchive, new PackOptions { Codec = CodecChoice.Zstd }, null, cancellationToken);

        Console.WriteLine($"3. Unpacking it into {restored}");
        clock.Restart();
        using (WaferArchive opened = WaferArchive.Open(archive))
        {
            opened.Unpack(restored, null, null, cancellationToken);
        }

        double unpackSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine("4. Comparing SHA-256 of every original and restored file");
        var table = new Table().Border(TableBorder.Simple).AddColumns("file", "size", "SHA-256 (first 16)", "identical");
        bool allIdentical = true;
        foreach (string original in Directory.EnumerateFiles(model, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(model, original);
            string copy = Path.Combine(restored, relative);
            string expected = Sha256(original);
            bool identical = File.Exists(copy) && Sha256(copy) == expected;
            allIdentical &= identical;
            table.AddRow(Markup.Escape(relative.Replace('\\', '/')), ByteSize.Format(new FileInfo(original).Length), expected[..16], identical ? "[green]yes[/]" : "[red]NO[/]");
        }

        IAnsiConsole console = StandardOutput.Create();
        console.Write(table);
        Console.WriteLine($"Original folder:     {ByteSize.Format(packed.OriginalBytes)} in {packed.FileCount} files, {packed.TensorCount} tensors");
        Console.WriteLine($"Wafer archive:       {ByteSize.Format(packed.ArchiveBytes)} ({ByteSize.Percent(packed.ArchiveBytes, packed.OriginalBytes)}), {packed.DeduplicatedChunks} duplicate chunks stored once; packed in {packSeconds:0.00} s, unpacked in {unpackSeconds:0.00} s");
        Console.WriteLine($"zstd-only archive:   {ByteSize.Format(zstdOnly.ArchiveBytes)} ({ByteSize.Percent(zstdOnly.ArchiveBytes, zstdOnly.OriginalBytes)})");
        Console.WriteLine(allIdentical ? "Every restored file is byte-identical to its original." : "Some restored files differ from their originals!");
        return allIdentical ? ExitCodes.Success : ExitCodes.Integrity;
    }

    private static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
