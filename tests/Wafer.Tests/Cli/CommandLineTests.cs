using System.Text.Json;
using Wafer.Tests.Archive;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Cli;

public sealed class CommandLineTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public CommandLineTests() => ModelFolderFixture.Write(_temp["model"]);

    public void Dispose() => _temp.Dispose();

    private CliRunner.Result Pack() => CliRunner.Run("pack", _temp["model"], "-o", _temp["a.wafer"], "--chunk-size", "4KiB");

    [Fact]
    public void Pack_unpack_verify_round_trip_with_exit_code_zero()
    {
        CliRunner.Result pack = Pack();
        Assert.True(pack.ExitCode == 0, pack.Stderr);
        Assert.Contains("Packed 8 files", pack.Stdout, StringComparison.Ordinal);
        Assert.Empty(pack.Stderr);

        CliRunner.Result unpack = CliRunner.Run("unpack", _temp["a.wafer"], "-o", _temp["restored"]);
        Assert.True(unpack.ExitCode == 0, unpack.Stderr);
        FolderAssert.Identical(_temp["model"], _temp["restored"]);

        CliRunner.Result verify = CliRunner.Run("verify", _temp["a.wafer"]);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("OK", verify.Stdout, StringComparison.Ordinal);
        Assert.Empty(verify.Stderr);
    }

    [Fact]
    public void Ls_json_lists_filtered_tensors_and_info_json_sums_up()
    {
        Pack();

        CliRunner.Result ls = CliRunner.Run("ls", _temp["a.wafer"], "--filter", "every.F*", "--json");
        Assert.Equal(0, ls.ExitCode);
        string[] names = [.. JsonDocument.Parse(ls.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!)];
        Assert.Equal(["every.F16", "every.F32", "every.F64", "every.F8_E4M3", "every.F8_E5M2"], names.Order(StringComparer.Ordinal));

        CliRunner.Result info = CliRunner.Run("info", _temp["a.wafer"], "--json");
        Assert.Equal(0, info.ExitCode);
        JsonElement root = JsonDocument.Parse(info.Stdout).RootElement;
        Assert.Equal(8, root.GetProperty("files").GetArrayLength());
        Assert.Equal(root.GetProperty("originalBytes").GetInt64(), root.GetProperty("codecs").EnumerateArray().Sum(c => c.GetProperty("originalBytes").GetInt64()));

        CliRunner.Result table = CliRunner.Run("info", _temp["a.wafer"]);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("bits/value", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_writes_raw_bins_and_safetensors()
    {
        Pack();

        CliRunner.Result raw = CliRunner.Run("extract", _temp["a.wafer"], "scalar", "--filter", "vector.*", "-o", _temp["bins"]);
        Assert.True(raw.ExitCode == 0, raw.Stderr);
        Assert.Equal(
            ["scalar.bin", "vector.31@model-00002-of-00002.safetensors.bin", "vector.31@nested_copy.safetensors.bin", "vector.33@model-00002-of-00002.safetensors.bin", "vector.33@nested_copy.safetensors.bin"],
            Directory.GetFiles(_temp["bins"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(4, new FileInfo(_temp["bins/scalar.bin"]).Length);

        CliRunner.Result st = CliRunner.Run("extract", _temp["a.wafer"], "--filter", "every.*", "--safetensors", _temp["every.safetensors"]);
        Assert.True(st.ExitCode == 0, st.Stderr);
        CliRunner.Result repack = CliRunner.Run("pack", _temp["every.safetensors"], "-o", _temp["every.wafer"]);
        Assert.True(repack.ExitCode == 0, repack.Stderr);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, CliRunner.Run("pack", _temp["model"]).ExitCode);
        Assert.Equal(2, CliRunner.Run("frobnicate").ExitCode);
        Assert.Equal(2, CliRunner.Run("pack", _temp["model"], "-o", _temp["x.wafer"], "--chunk-size", "7").ExitCode);
        Assert.Equal(2, CliRunner.Run("extract", _temp["a.wafer"]).ExitCode);
    }

    [Fact]
    public void Bad_input_exits_3_with_one_clear_message()
    {
        File.WriteAllText(_temp["not.wafer"], new string('x', 100));

        CliRunner.Result result = CliRunner.Run("info", _temp["not.wafer"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("not.wafer", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("not a Wafer archive", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Integrity_failures_exit_4_and_name_the_tensor()
    {
        Pack();
        long at;
        using (WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]))
        {
            at = archive.Manifest.Tensors.First(t => t.Name == "chunks.many").Chunks[1].At;
        }

        ArchiveSurgery.FlipBit(_temp["a.wafer"], at + 1);

        CliRunner.Result verify = CliRunner.Run("verify", _temp["a.wafer"]);
        Assert.Equal(4, verify.ExitCode);
        Assert.Contains("chunks.many", verify.Stderr, StringComparison.Ordinal);

        CliRunner.Result unpack = CliRunner.Run("unpack", _temp["a.wafer"], "-o", _temp["restored"]);
        Assert.Equal(4, unpack.ExitCode);
        Assert.False(Directory.Exists(_temp["restored"]));
    }

    [Fact]
    public void Io_failures_exit_5()
    {
        Assert.Equal(5, CliRunner.Run("info", _temp["missing.wafer"]).ExitCode);
        Assert.Equal(5, CliRunner.Run("pack", _temp["no-such-folder"], "-o", _temp["x.wafer"]).ExitCode);
        Pack();
        Assert.Equal(5, Pack().ExitCode);
    }

    [Fact]
    public void Demo_runs_and_proves_byte_identity()
    {
        CliRunner.Result demo = CliRunner.Run("demo");

        Assert.True(demo.ExitCode == 0, demo.Stderr);
        Assert.Contains("Every restored file is byte-identical to its original.", demo.Stdout, StringComparison.Ordinal);
    }
}
