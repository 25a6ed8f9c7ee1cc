using System.CommandLine;
using System.Diagnostics;

namespace Wafer.Cli.Commands;

internal static class UnpackCommand
{
    public static Command Create()
    {
        Argument<string> archive = CommonOptions.Archive();
        Option<string> output = CommonOptions.Output("The folder to restore into (created; must be empty unless --force).");
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("unpack", "Restore every file of an archive, byte-identical, checking each SHA-256.") { archive, output, threads, force, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            bool isQuiet = parse.GetValue(quiet);
            var clock = Stopwatch.StartNew();
            using WaferArchive opened = WaferArchive.Open(parse.GetValue(archive)!);
            var options = new UnpackOptions { Threads = parse.GetValue(threads), Overwrite = parse.GetValue(force) };
            ConsoleProgress.Run("Unpacking", isQuiet, progress =>
            {
                opened.Unpack(parse.GetValue(output)!, options, progress, cancellationToken);
                return 0;
            });
            if (!isQuiet)
            {
                Console.WriteLine($"Restored {opened.Files.Count} files ({ByteSize.Format(opened.OriginalBytes)}) into {parse.GetValue(output)}, every SHA-256 verified, in {clock.Elapsed.TotalSeconds:0.00} s.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
