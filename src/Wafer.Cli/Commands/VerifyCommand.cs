using System.CommandLine;

namespace Wafer.Cli.Commands;

internal static class VerifyCommand
{
    public static Command Create()
    {
        Argument<string> archive = CommonOptions.Archive();
        Option<int> threads = CommonOptions.Threads();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("verify", "Decode every chunk and recompute every checksum; name each corrupt tensor or file.") { archive, threads, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            bool isQuiet = parse.GetValue(quiet);
            using WaferArchive opened = WaferArchive.Open(parse.GetValue(archive)!);
            VerifyReport report = ConsoleProgress.Run("Verifying", isQuiet, progress =>
                opened.Verify(new UnpackOptions { Threads = parse.GetValue(threads) }, progress, cancellationToken));
            foreach (string problem in report.Problems)
            {
                Console.Error.WriteLine($"corrupt: {problem}");
            }

            if (!report.IsIntact)
            {
                Console.Error.WriteLine($"{opened.Path}: {report.Problems.Count} problems found.");
                return Task.FromResult(ExitCodes.Integrity);
            }

            if (!isQuiet)
            {
                Console.WriteLine($"{opened.Path}: OK: {opened.Files.Count} files, {opened.Tensors.Count} tensors, {ByteSize.Format(report.CheckedBytes)} checked.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
