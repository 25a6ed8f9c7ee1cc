using System.Text.Json.Nodes;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Chain;

public sealed class ChainTests : IDisposable
{
    private static readonly ChainAddOptions s_small = new() { ChunkSize = 16 << 10 };

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Chain => _temp["run.wchain"];

    private string Checkpoint(long step) => CheckpointSeries.Write(_temp["source"], step);

    private void AddSteps(ChainAddOptions options, params long[] steps)
    {
        foreach (long step in steps)
        {
            WaferChain.Add(Chain, Checkpoint(step), options);
        }
    }

    [Fact]
    public void Every_checkpoint_restores_byte_identical_and_only_the_newest_is_a_plain_archive()
    {
        AddSteps(s_small, 100, 200, 300, 400);

        IReadOnlyList<ChainEntryInfo> entries = WaferChain.List(Chain);

        Assert.Equal([100L, 200, 300, 400], entries.Select(e => e.Step));
        Assert.True(entries[^1].IsAnchor);
        Assert.All(entries.Take(3), e => Assert.Equal(e.Step + 100, e.BaseStep));
        Assert.Equal([3, 2, 1, 0], entries.Select(e => e.Depth));
        foreach (ChainEntryInfo entry in entries)
        {
            string output = _temp[$"restored-{entry.Step}"];
            WaferChain.Get(Chain, entry.Step, output);
            FolderAssert.Identical(_temp[$"source/checkpoint-{entry.Step}"], output);
        }

        Assert.DoesNotContain(_temp.Entries(), e => e.Contains("wafer-partial", StringComparison.Ordinal));
    }

    [Fact]
    public void Deltas_are_smaller_than_anchors_and_the_chain_is_never_larger_than_separate_archives()
    {
        AddSteps(s_small, 10, 20, 30);
        long separate = 0;
        foreach (long step in new long[] { 10, 20, 30 })
        {
            separate += WaferPacker.Pack(_temp[$"source/checkpoint-{step}"], _temp[$"{step}.wafer"], new PackOptions { ChunkSize = 16 << 10 }).ArchiveBytes;
        }

        IReadOnlyList<ChainEntryInfo> entries = WaferChain.List(Chain);

        // The generated optimizer moments are fresh noise every step, so only the weights shrink as deltas.
        Assert.All(entries.Take(2), e => Assert.False(e.IsAnchor));
        Assert.All(entries.Where(e => !e.IsAnchor), e => Assert.True(e.StoredBytes < entries[^1].StoredBytes, $"step {e.Step}: delta {e.StoredBytes} vs anchor {entries[^1].StoredBytes}"));
        Assert.True(entries.Sum(e => e.StoredBytes) <= separate * 0.97, $"chain {entries.Sum(e => e.StoredBytes)} vs separate archives {separate}");
    }

    [Fact]
    public void Restore_depth_never_exceeds_the_bound_whatever_the_length()
    {
        AddSteps(new ChainAddOptions { ChunkSize = 16 << 10, MaxDepth = 2 }, 1, 2, 3, 4, 5, 6, 7);

        IReadOnlyList<ChainEntryInfo> entries = WaferChain.List(Chain);

        Assert.All(entries, e => Assert.InRange(e.Depth, 0, 2));
        Assert.True(entries.Count(e => e.IsAnchor) >= 3);
        WaferChain.Get(Chain, 1, _temp["one"]);
        FolderAssert.Identical(_temp["source/checkpoint-1"], _temp["one"]);
        Assert.True(WaferChain.Verify(Chain).IsIntact);
    }

    [Fact]
    public void Max_depth_zero_stores_every_checkpoint_as_an_anchor()
    {
        AddSteps(new ChainAddOptions { ChunkSize = 16 << 10, MaxDepth = 0 }, 1, 2);

        Assert.All(WaferChain.List(Chain), e => Assert.True(e.IsAnchor));
    }

    [Fact]
    public void Steps_must_increase_and_a_refused_add_changes_nothing()
    {
        AddSteps(s_small, 100, 200);
        byte[] index = File.ReadAllBytes(Path.Combine(Chain, "chain.json"));
        string[] before = Directory.GetFiles(Chain);

        Assert.Throws<ArgumentException>(() => WaferChain.Add(Chain, Checkpoint(150), s_small));

        Assert.Equal(index, File.ReadAllBytes(Path.Combine(Chain, "chain.json")));
        Assert.Equal(before.Order(StringComparer.Ordinal), Directory.GetFiles(Chain).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_cancelled_add_leaves_the_chain_as_it_was_and_the_next_add_cleans_up()
    {
        AddSteps(s_small, 100, 200);
        byte[] index = File.ReadAllBytes(Path.Combine(Chain, "chain.json"));
        File.WriteAllText(Path.Combine(Chain, "step-250.deadbeef.wafer.1-abc.wafer-partial"), "left by a killed add");
        using var cancel = new CancellationTokenSource();

        Assert.ThrowsAny<OperationCanceledException>(() => WaferChain.Add(Chain, Checkpoint(300), s_small, new CancelOnReport(cancel), cancel.Token));

        Assert.Equal(index, File.ReadAllBytes(Path.Combine(Chain, "chain.json")));
        Assert.Equal([100L, 200], WaferChain.List(Chain).Select(e => e.Step));
        WaferChain.Get(Chain, 100, _temp["r100"]);
        FolderAssert.Identical(_temp["source/checkpoint-100"], _temp["r100"]);

        WaferChain.Add(Chain, Checkpoint(300), s_small);
        Assert.Equal(3, Directory.GetFiles(Chain).Count(f => Path.GetFileName(f).StartsWith("step-", StringComparison.Ordinal)));
        Assert.DoesNotContain(Directory.GetFiles(Chain), f => f.EndsWith(".wafer-partial", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_names_the_damaged_step_and_the_steps_that_build_on_it()
    {
        AddSteps(s_small, 100, 200, 300);
        string patch = Directory.GetFiles(Chain, "step-200.*.wpatch").Single();
        (long manifest, _) = ArchiveSurgery.ManifestRange(patch);
        ArchiveSurgery.FlipBit(patch, manifest / 2);

        VerifyReport report = WaferChain.Verify(Chain);

        Assert.False(report.IsIntact);
        Assert.Contains(report.Problems, p => p.StartsWith("step 200", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.StartsWith("step 100", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Problems, p => p.StartsWith("step 300", StringComparison.Ordinal));
        Assert.ThrowsAny<WaferDataException>(() => WaferChain.Get(Chain, 100, _temp["r"]));
        Assert.False(Directory.Exists(_temp["r"]));
    }

    [Theory]
    [InlineData("file", "../escape.wafer", "unsafe")]
    [InlineData("file", "chain.json", "unsafe")]
    [InlineData("base", 50L, "later checkpoint")]
    [InlineData("kind", "snapshot", "unknown kind")]
    [InlineData("step", 999L, "does not follow")]
    public void A_lying_index_is_refused(string field, object value, string expected)
    {
        AddSteps(s_small, 100, 200);
        string path = Path.Combine(Chain, "chain.json");
        JsonObject index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        index["entries"]![0]![field] = value is long l ? JsonValue.Create(l) : JsonValue.Create((string)value);
        File.WriteAllText(path, index.ToJsonString());

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferChain.List(Chain));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "entries")]
    [InlineData(null, "waferChain")]
    [InlineData(null, "maxDepth")]
    [InlineData(0, "step")]
    [InlineData(0, "kind")]
    [InlineData(0, "file")]
    public void An_index_missing_a_field_is_refused(int? entry, string field)
    {
        // Without the check, a lost "kind" read as "anchor" and a lost "entries" as an empty chain.
        AddSteps(s_small, 100, 200);
        string path = Path.Combine(Chain, "chain.json");
        JsonObject index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        JsonObject holder = entry is int e ? index["entries"]![e]!.AsObject() : index;
        Assert.True(holder.Remove(field));
        File.WriteAllText(path, index.ToJsonString());

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferChain.List(Chain));

        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_single_byte_corruption_of_the_index_is_refused_or_restores_the_same_checkpoint()
    {
        AddSteps(s_small, 100, 200, 300);
        string path = Path.Combine(Chain, "chain.json");
        byte[] index = File.ReadAllBytes(path);
        int restored = 0;
        for (int i = 0; i < index.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0xFF })
            {
                byte[] variant = (byte[])index.Clone();
                variant[i] ^= mask;
                File.WriteAllBytes(path, variant);
                IReadOnlyList<ChainEntryInfo>? entries = null;
                Exception? error = Record.Exception(() => entries = WaferChain.List(Chain));
                if (error is not null)
                {
                    Assert.True(error is WaferDataException, $"byte {i} ^ 0x{mask:x2}: {error}");
                    continue;
                }

                // An index that still reads restores its oldest entry (a walk over every patch) as that checkpoint,
                // or fails cleanly: every eighth such variant, as a restore takes a while.
                if (i % 8 != 0)
                {
                    continue;
                }

                string output = _temp[$"r{i}-{mask}"];
                error = Record.Exception(() => WaferChain.Get(Chain, entries![0].Step, output));
                if (error is not null)
                {
                    Assert.True(error is WaferDataException, $"byte {i} ^ 0x{mask:x2}: {error}");
                    Assert.False(Directory.Exists(output));
                    continue;
                }

                FolderAssert.Identical(Path.Combine(_temp["source"], "checkpoint-100"), output);
                restored++;
            }
        }

        Assert.True(restored > 0);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    public void An_index_with_no_checkpoints_is_refused(string entries)
    {
        AddSteps(s_small, 100);
        string path = Path.Combine(Chain, "chain.json");
        JsonObject index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        index["entries"] = JsonNode.Parse(entries);
        File.WriteAllText(path, index.ToJsonString());

        Assert.Contains("no checkpoints", Assert.ThrowsAny<WaferDataException>(() => WaferChain.List(Chain)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300L, "archive")]
    [InlineData(200L, "patch")]
    public void A_missing_chain_file_is_named_before_anything_is_written(long lost, string what)
    {
        AddSteps(s_small, 100, 200, 300);
        string file = Directory.GetFiles(Chain, $"step-{lost}.*").Single();
        File.Delete(file);

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferChain.Get(Chain, 100, _temp["r"]));

        Assert.Contains($"the {what} of step {lost}, '{Path.GetFileName(file)}', is missing", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp["r"]));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path, "*.wafer-partial"));
        VerifyReport report = WaferChain.Verify(Chain);
        Assert.Contains(report.Problems, p => p.StartsWith($"step {lost}", StringComparison.Ordinal) && p.Contains("is missing", StringComparison.Ordinal));
        if (lost == 300)
        {
            // The newest checkpoint is re-coded against the next one added: that add fails first, and changes nothing.
            string before = File.ReadAllText(Path.Combine(Chain, "chain.json"));
            Assert.Contains("is missing", Assert.ThrowsAny<WaferDataException>(() => WaferChain.Add(Chain, Checkpoint(400), s_small)).Message, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllText(Path.Combine(Chain, "chain.json")));
        }
    }

    [Fact]
    public void A_depth_beyond_the_declared_bound_is_refused()
    {
        AddSteps(s_small, 1, 2, 3);
        string path = Path.Combine(Chain, "chain.json");
        JsonObject index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        index["maxDepth"] = 1;
        File.WriteAllText(path, index.ToJsonString());

        Assert.Contains("more than 1 deltas", Assert.ThrowsAny<WaferDataException>(() => WaferChain.Get(Chain, 1, _temp["r"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_step_comes_from_trainer_state_then_the_folder_name()
    {
        string folder = Checkpoint(700);
        File.Delete(Path.Combine(folder, "trainer_state.json"));
        WaferChain.Add(Chain, folder, s_small);
        string renamed = _temp["source/final"];
        Directory.Move(Checkpoint(800), renamed);
        WaferChain.Add(Chain, renamed, s_small);

        Assert.Equal([700L, 800], WaferChain.List(Chain).Select(e => e.Step));
        Directory.CreateDirectory(_temp["source/nodigits"]);
        File.WriteAllText(_temp["source/nodigits/a.txt"], "x");
        Assert.Throws<ArgumentException>(() => WaferChain.Add(Chain, _temp["source/nodigits"], s_small));
    }

    [Fact]
    public void Cli_chain_commands_work_with_distinct_exit_codes()
    {
        string first = Checkpoint(10);
        string second = Checkpoint(20);

        Assert.Equal(0, CliRunner.Run("chain", "add", Chain, first, "-q").ExitCode);
        CliRunner.Result add = CliRunner.Run("chain", "add", Chain, second);
        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.Contains("Step 10 became a patch", add.Stdout, StringComparison.Ordinal);
        CliRunner.Result ls = CliRunner.Run("chain", "ls", Chain, "--json");
        Assert.Equal(0, ls.ExitCode);
        Assert.Equal(2, JsonNode.Parse(ls.Stdout)!.AsArray().Count);
        Assert.Equal(0, CliRunner.Run("chain", "get", Chain, "10", "-o", _temp["r10"]).ExitCode);
        FolderAssert.Identical(first, _temp["r10"]);
        Assert.Equal(0, CliRunner.Run("chain", "verify", Chain).ExitCode);
        Assert.Equal(2, CliRunner.Run("chain", "get", Chain, "999", "-o", _temp["r999"]).ExitCode);
        Assert.Equal(5, CliRunner.Run("chain", "ls", _temp["missing.wchain"]).ExitCode);
    }

    [RealDataFact("bytelm-base-ckpt")]
    public void Real_bf16_run_restores_every_step_byte_identical()
    {
        WaferChain.Add(Chain, RealData.PathOf("bytelm-base-ckpt/checkpoint-200"));
        WaferChain.Add(Chain, RealData.PathOf("bytelm-base-ckpt/checkpoint-300"));
        WaferChain.Add(Chain, RealData.PathOf("bytelm-base"), new ChainAddOptions { Step = 400 });

        IReadOnlyList<ChainEntryInfo> entries = WaferChain.List(Chain);
        Assert.Equal(2, entries.Count(e => !e.IsAnchor));
        WaferChain.Get(Chain, 200, _temp["r200"]);
        FolderAssert.Identical(RealData.PathOf("bytelm-base-ckpt/checkpoint-200"), _temp["r200"]);
        Assert.True(WaferChain.Verify(Chain).IsIntact);
    }

    [RealDataFact("optim-run-torch")]
    public void Real_pytorch_checkpoints_with_optimizer_state_restore_byte_identical()
    {
        WaferChain.Add(Chain, RealData.PathOf("optim-run-torch/checkpoint-40"));
        WaferChain.Add(Chain, RealData.PathOf("optim-run-torch/checkpoint-80"));

        WaferChain.Get(Chain, 40, _temp["r40"]);

        FolderAssert.Identical(RealData.PathOf("optim-run-torch/checkpoint-40"), _temp["r40"]);
        Assert.False(WaferChain.List(Chain)[0].IsAnchor);
    }

    private sealed class CancelOnReport(CancellationTokenSource source) : IProgress<WaferProgress>
    {
        public void Report(WaferProgress value) => source.Cancel();
    }
}
