using System.CommandLine;
using System.Diagnostics;
using Wafer.Codecs;

namespace Wafer.Cli.Commands;

internal static class PackCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "A model folder (every file in it, nested folders too) or a single file." };
        Option<string> output = CommonOptions.Output("The archive to write (e.g. model.wafer).");
        Option<CodecChoice> codec = CommonOptions.Codec();
        Option<string> chunkSize = CommonOptions.ChunkSize();
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("pack", "Pack a model folder into one .wafer archive.") { source, output, codec, chunkSize, threads, force, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            // The option's validator has already accepted the text.
            int chunkBytes = ByteSize.TryParse(parse.GetValue(chunkSize)!, out int parsed) ? parsed : new PackOptions().ChunkSize;
            var options = new PackOptions
            {
                Codec = parse.GetValue(codec),
                ChunkSize = chunkBytes,
                Threads = parse.GetValue(threads),
                Overwrite = parse.GetValue(force),
            };
            bool isQuiet = parse.GetValue(quiet);
            var clock = Stopwatch.StartNew();
            PackResult result = ConsoleProgress.Run("Packing", isQuiet, progress =>
                WaferPacker.Pack(parse.GetValue(source)!, parse.GetValue(output)!, options, progress, cancellationToken));
            if (!isQuiet)
            {
                Console.WriteLine(
                    $"Packed {result.FileCount} files ({result.TensorCount} tensors, {ByteSize.Format(result.OriginalBytes)}) " +
                    $"into {result.ArchivePath}: {ByteSize.Format(result.ArchiveBytes)}, {ByteSize.Percent(result.ArchiveBytes, result.OriginalBytes)} of original" +
                    $"{(result.DeduplicatedChunks > 0 ? $", {result.DeduplicatedChunks} duplicate chunks stored once" : "")}, in {clock.Elapsed.TotalSeconds:0.00} s.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
