using System.CommandLine;
using System.Diagnostics;

namespace Wafer.Cli.Commands;

internal static class ApplyCommand
{
    public static Command Create()
    {
        var baseModel = new Argument<string>("base") { Description = "The base model the patch was made against: a folder (or one file) or a .wafer archive." };
        var patch = new Argument<string>("patch") { Description = "The patch (from 'wafer diff')." };
        Option<string> output = CommonOptions.Output("Where to write the rebuilt model: a folder (created; must be empty unless --force), or a .wafer file with --archive.");
        var archive = new Option<bool>("--archive") { Description = "Write the rebuilt model as one .wafer archive instead of a folder." };
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("apply", "Rebuild a model, byte-identical, from its base and a patch.") { baseModel, patch, output, archive, threads, force, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new ApplyOptions { AsArchive = parse.GetValue(archive), Threads = parse.GetValue(threads), Overwrite = parse.GetValue(force) };
            bool isQuiet = parse.GetValue(quiet);
            var clock = Stopwatch.StartNew();
            ApplyResult result = ConsoleProgress.Run("Applying", isQuiet, progress =>
                WaferPatch.Apply(parse.GetValue(baseModel)!, parse.GetValue(patch)!, parse.GetValue(output)!, options, progress, cancellationToken));
            if (!isQuiet)
            {
                Console.WriteLine($"Rebuilt {result.FileCount} files ({ByteSize.Format(result.TargetBytes)}) into {result.OutputPath}, base and every SHA-256 verified, in {clock.Elapsed.TotalSeconds:0.00} s.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
