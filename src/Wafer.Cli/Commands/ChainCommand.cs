using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Wafer.Cli.Commands;

internal static class ChainCommand
{
    public static Command Create() => new("chain", "Store a training run's checkpoints as deltas; restore any of them byte-identical.")
    {
        Add(), List(), Get(), Verify(),
    };

    private static Argument<string> ChainArgument() => new("chain") { Description = "The chain folder (e.g. run.wchain); created by the first add." };

    private static Command Add()
    {
        Argument<string> chain = ChainArgument();
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint folder (any mix of safetensors, PyTorch, GGUF and other files)." };
        var step = new Option<long?>("--step") { Description = "The training step (default: trainer_state.json global_step, else the digits ending the folder name)." };
        var maxDepth = new Option<int>("--max-depth")
        {
            Description = "For a new chain: the most patches a restore applies (default 8).",
            DefaultValueFactory = _ => 8,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > 64) { r.AddError("--max-depth must be 0..64."); } } },
        };
        Option<int> threads = CommonOptions.Threads();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("add", "Append a checkpoint; the previous newest becomes a patch against it when that is smaller.") { chain, checkpoint, step, maxDepth, threads, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            bool isQuiet = parse.GetValue(quiet);
            var options = new ChainAddOptions { Step = parse.GetValue(step), MaxDepth = parse.GetValue(maxDepth), Threads = parse.GetValue(threads) };
            ChainAddResult result = ConsoleProgress.Run("Adding", isQuiet, progress =>
                WaferChain.Add(parse.GetValue(chain)!, parse.GetValue(checkpoint)!, options, progress, cancellationToken));
            if (!isQuiet)
            {
                Console.WriteLine($"Added step {result.Step}: {ByteSize.Format(result.OriginalBytes)} stored in {ByteSize.Format(result.StoredBytes)} as the newest anchor.");
                if (result.PreviousStep is long previous)
                {
                    Console.WriteLine(result.PreviousBytesAfter < result.PreviousBytesBefore
                        ? $"Step {previous} became a patch against it: {ByteSize.Format(result.PreviousBytesBefore)} -> {ByteSize.Format(result.PreviousBytesAfter)}."
                        : $"Step {previous} stays an anchor (a patch would not be smaller, or the depth limit is reached).");
                }

                Console.WriteLine($"Chain: {ByteSize.Format(result.ChainBytes)}.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command List()
    {
        Argument<string> chain = ChainArgument();
        var json = new Option<bool>("--json") { Description = "Print one JSON array." };
        var command = new Command("ls", "List steps, sizes, and which are anchors.") { chain, json };
        command.SetAction(parse =>
        {
            IReadOnlyList<ChainEntryInfo> entries = WaferChain.List(parse.GetValue(chain)!);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(entries.Select(e => new Dictionary<string, object?>
                {
                    ["step"] = e.Step,
                    ["kind"] = e.IsAnchor ? "anchor" : "delta",
                    ["base"] = e.BaseStep,
                    ["depth"] = e.Depth,
                    ["storedBytes"] = e.StoredBytes,
                    ["originalBytes"] = e.OriginalBytes,
                    ["files"] = e.FileCount,
                    ["source"] = e.Source,
                }).ToList(), ListJsonContext.Default.ListDictionaryStringObject));
                return ExitCodes.Success;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumns("step", "kind", "base", "depth", "original", "stored", "ratio", "source");
            foreach (ChainEntryInfo e in entries)
            {
                table.AddRow(
                    e.Step.ToString(CultureInfo.InvariantCulture),
                    e.IsAnchor ? "anchor" : "delta",
                    e.BaseStep?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    e.Depth.ToString(CultureInfo.InvariantCulture),
                    ByteSize.Format(e.OriginalBytes),
                    ByteSize.Format(e.StoredBytes),
                    ByteSize.Percent(e.StoredBytes, e.OriginalBytes),
                    Markup.Escape(e.Source));
            }

            IAnsiConsole console = StandardOutput.Create();
            console.Write(table);
            long stored = entries.Sum(e => e.StoredBytes);
            long original = entries.Sum(e => e.OriginalBytes);
            Console.WriteLine($"{entries.Count} checkpoints, {ByteSize.Format(original)} original, {ByteSize.Format(stored)} stored ({ByteSize.Percent(stored, original)}).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get()
    {
        Argument<string> chain = ChainArgument();
        var step = new Argument<long>("step") { Description = "The step to restore." };
        Option<string> output = CommonOptions.Output("The folder to restore into (created; must be empty unless --force).");
        Option<int> threads = CommonOptions.Threads();
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("get", "Restore one checkpoint, byte-identical.") { chain, step, output, threads, force, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            bool isQuiet = parse.GetValue(quiet);
            var options = new UnpackOptions { Threads = parse.GetValue(threads), Overwrite = parse.GetValue(force) };
            ConsoleProgress.Run("Restoring", isQuiet, progress =>
            {
                WaferChain.Get(parse.GetValue(chain)!, parse.GetValue(step), parse.GetValue(output)!, options, progress, cancellationToken);
                return 0;
            });
            if (!isQuiet)
            {
                Console.WriteLine($"Restored step {parse.GetValue(step)} into {parse.GetValue(output)}, every SHA-256 verified.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Verify()
    {
        Argument<string> chain = ChainArgument();
        Option<int> threads = CommonOptions.Threads();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("verify", "Restore every checkpoint in memory-bounded passes and check every checksum.") { chain, threads, quiet };
        command.SetAction((parse, cancellationToken) =>
        {
            VerifyReport report = WaferChain.Verify(parse.GetValue(chain)!, new UnpackOptions { Threads = parse.GetValue(threads) }, cancellationToken);
            foreach (string problem in report.Problems)
            {
                Console.Error.WriteLine($"corrupt: {problem}");
            }

            if (!report.IsIntact)
            {
                return Task.FromResult(ExitCodes.Integrity);
            }

            if (!parse.GetValue(quiet))
            {
                Console.WriteLine($"{parse.GetValue(chain)}: OK: {ByteSize.Format(report.CheckedBytes)} of checkpoints restored and checked.");
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
