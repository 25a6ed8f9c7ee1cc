using System.CommandLine;
using System.Diagnostics;

namespace Wafer.Cli.Commands;

internal static class DiffCommand
{
    public static Command Create()
    {
        var baseModel = new Argument<string>("base") { Description = "The base model: a folder (or one file) or a .wafer archive." };
        var target = new Argument<string>("target") { Description = "The updated model: a folder (or one file) or a .wafer archive." };
        Option<string> output = CommonOptions.Output("The patch to write (e.g. update.wpatch).");
        Option<string> chunkSize = CommonOptions.ChunkSize();
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var noCompare = new Option<bool>("--no-compare") { Description = "Do not pack the target to compare the patch with its own archive." };
        var command = new Command("diff", "Write a bit-exact patch that rebuilds TARGET from BASE.") { baseModel, target, output, chunkSize, threads, force, quiet, noCompare };
        command.SetAction((parse, cancellationToken) =>
        {
            int chunkBytes = ByteSize.TryParse(parse.GetValue(chunkSize)!, out int parsed) ? parsed : new PatchOptions().ChunkSize;
            var options = new PatchOptions { ChunkSize = chunkBytes, Threads = parse.GetValue(threads), Overwrite = parse.GetValue(force) };
            bool isQuiet = parse.GetValue(quiet);
            var clock = Stopwatch.StartNew();
            string targetPath = parse.GetValue(target)!;
            PatchResult result = ConsoleProgress.Run("Diffing", isQuiet, progress =>
                WaferPatch.Diff(parse.GetValue(baseModel)!, targetPath, parse.GetValue(output)!, options, progress, cancellationToken));
            double seconds = clock.Elapsed.TotalSeconds;
            if (isQuiet)
            {
                return Task.FromResult(ExitCodes.Success);
            }

            PatchChanges t = result.Tensors;
            PatchChanges f = result.Files;
            Console.WriteLine($"Tensors: {t.Unchanged} unchanged, {t.Modified} modified ({t.Reshaped} reshaped), {t.Added} added, {t.Removed} removed, {t.Renamed} renamed.");
            Console.WriteLine($"Files:   {f.Unchanged} unchanged, {f.Modified} modified, {f.Added} added, {f.Removed} removed, {f.Renamed} renamed.");
            Console.WriteLine($"Wrote {result.PatchPath}: {ByteSize.Format(result.PatchBytes)}, {ByteSize.Percent(result.PatchBytes, result.TargetBytes)} of the target's {ByteSize.Format(result.TargetBytes)}, in {seconds:0.00} s.");
            if (!parse.GetValue(noCompare))
            {
                long archiveBytes = TargetArchiveBytes(targetPath, options.Threads, cancellationToken);
                Console.WriteLine($"The target's own archive: {ByteSize.Format(archiveBytes)}; the patch is {ByteSize.Percent(result.PatchBytes, archiveBytes)} of it.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static long TargetArchiveBytes(string target, int threads, CancellationToken cancellationToken)
    {
        if (File.Exists(target) && new FileInfo(target).Length > 0)
        {
            try
            {
                using WaferArchive archive = WaferArchive.Open(target);
                return archive.Length;
            }
            catch (WaferDataException)
            {
                // Not an archive: pack it below.
            }
        }

        string temporary = Path.Combine(Path.GetTempPath(), $"wafer-compare-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.wafer");
        try
        {
            return WaferPacker.Pack(target, temporary, new PackOptions { Threads = threads }, null, cancellationToken).ArchiveBytes;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
