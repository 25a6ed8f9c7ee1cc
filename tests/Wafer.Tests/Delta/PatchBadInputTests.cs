using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Wafer.Cli;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Delta;

public class PatchBadInputTests
{
    private static readonly PatchOptions s_small = new() { ChunkSize = PatchFixture.ChunkSize, Threads = 2 };

    private static PatchFixture WithPatch()
    {
        var fixture = new PatchFixture();
        WaferPatch.Diff(fixture.Base, fixture.Target, fixture["update.wpatch"], s_small);
        return fixture;
    }

    private static void AssertNothingWritten(PatchFixture fixture, string output)
    {
        Assert.False(Directory.Exists(fixture[output]), "the output folder exists after a failed apply");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(fixture[output])!), p => p.Contains("wafer-partial", StringComparison.Ordinal));
    }

    /// <summary>Edits one file of the fixture's base in place; returns its new bytes.</summary>
    private static byte[] TamperBase(PatchFixture fixture, string file, Action<byte[]> edit)
    {
        string path = Path.Combine(fixture.Base, file);
        byte[] bytes = File.ReadAllBytes(path);
        edit(bytes);
        File.WriteAllBytes(path, bytes);
        return bytes;
    }

    /// <summary>Applies a patch to the fixture's base (or <paramref name="baseModel"/>), which must refuse it with nothing written.</summary>
    private static WaferDataException ApplyIsRefused(PatchFixture fixture, string patch = "update.wpatch", string? baseModel = null)
    {
        var e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(baseModel ?? fixture.Base, fixture[patch], fixture["out"]));
        AssertNothingWritten(fixture, "out");
        return e;
    }

    /// <summary>The error for a base file whose XXH3-128 differs: the base, the file, its hash and the patch's.</summary>
    private static string FileMismatch(PatchFixture fixture, string file, byte[] bytes) =>
        $"{fixture.Base}: is not the base this patch was made against: file '{file}' has XXH3-128 {Xxh128(bytes)}, the patch expects {RecordedBaseFile(fixture, file).Xxh128}.";

    /// <summary>The fixture patch's entry for base file <paramref name="file"/>.</summary>
    private static global::Wafer.Archive.Manifest.BaseFileEntry RecordedBaseFile(PatchFixture fixture, string file)
    {
        using WaferArchive patch = WaferArchive.Open(fixture["update.wpatch"]);
        return patch.Manifest.BaseFiles!.Single(f => f.Path == file);
    }

    private static string Xxh128(byte[] bytes) => Convert.ToHexStringLower(XxHash128.Hash(bytes));

    [Fact]
    public void Applying_to_another_model_names_what_differs_and_writes_nothing()
    {
        using PatchFixture fixture = WithPatch();
        var e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(fixture.Target, fixture["update.wpatch"], fixture["out"]));
        Assert.Contains($"{fixture.Target}: is not the base this patch was made against", e.Message, StringComparison.Ordinal);
        Assert.Contains("file '", e.Message, StringComparison.Ordinal);
        AssertNothingWritten(fixture, "out");
    }

    [Fact]
    public void One_flipped_bit_in_a_base_tensor_is_caught_before_writing()
    {
        using PatchFixture fixture = WithPatch();
        TamperBase(fixture, "model-1.safetensors", bytes => bytes[^3] ^= 0x10);
        WaferDataException e = ApplyIsRefused(fixture);
        Assert.Contains("tensor 'moved.weight' in 'model-1.safetensors' has XXH3-128", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_base_that_fails_the_first_decode_is_named_as_the_wrong_base(int threads)
    {
        // The very first chunk is coded against a base file that has changed, so decoding it fails its checksum. The
        // error must be the base mismatch, not that chunk's checksum, however the check and the decodes are ordered.
        using var temp = new TempFolder();
        string text = string.Concat(Enumerable.Range(0, 300).Select(i => $"\"entry{i}\": {i * 7},\n"));
        Directory.CreateDirectory(temp["base"]);
        Directory.CreateDirectory(temp["target"]);
        File.WriteAllText(Path.Combine(temp["base"], "a.json"), text);
        File.WriteAllText(Path.Combine(temp["target"], "a.json"), text.Replace("entry17\"", "entry17b\"", StringComparison.Ordinal));
        WaferPatch.Diff(temp["base"], temp["target"], temp["update.wpatch"], new PatchOptions { Threads = threads });
        using (WaferArchive patch = WaferArchive.Open(temp["update.wpatch"]))
        {
            Assert.Equal("zstd-ref", Assert.Single(Assert.Single(patch.Manifest.Blobs).Chunks).Codec);
        }

        byte[] changed = System.Text.Encoding.UTF8.GetBytes(text.Replace("entry", "ENTRY", StringComparison.Ordinal));
        File.WriteAllBytes(Path.Combine(temp["base"], "a.json"), changed);

        var e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(temp["base"], temp["update.wpatch"], temp["out"], new ApplyOptions { Threads = threads }));

        Assert.StartsWith($"{temp["base"]}: is not the base this patch was made against: file 'a.json' has XXH3-128 {Xxh128(changed)}", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp["out"]));
    }

    [Fact]
    public void A_changed_base_file_is_caught_by_its_hash()
    {
        using PatchFixture fixture = WithPatch();
        File.WriteAllText(Path.Combine(fixture.Base, "config.json"), "{\"hidden\": 33, \"vocab\": 64, \"name\": \"base\"}");
        var e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(fixture.Base, fixture["update.wpatch"], fixture["out"]));
        Assert.Contains("file 'config.json' has XXH3-128", e.Message, StringComparison.Ordinal);
        File.Delete(Path.Combine(fixture.Base, "config.json"));
        e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(fixture.Base, fixture["update.wpatch"], fixture["out"]));
        Assert.Contains("has no file 'config.json'", e.Message, StringComparison.Ordinal);
        AssertNothingWritten(fixture, "out");
    }

    [Theory]
    [InlineData("model-1.safetensors", "tensor name in the header")]
    [InlineData("config.json", "text")]
    public void One_flipped_bit_outside_the_tensors_is_caught_by_the_file_hash(string file, string region)
    {
        using PatchFixture fixture = WithPatch();
        byte[] bytes = TamperBase(fixture, file, data =>
        {
            int at = region == "text"
                ? data.Length / 2
                : data.AsSpan(0, 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(data)).IndexOf("\"moved.weight\""u8) + 1;
            data[at] ^= 0x01;
        });

        // Every base tensor still hashes as recorded, so the file is named, with both XXH3-128s.
        Assert.Contains(FileMismatch(fixture, file, bytes), ApplyIsRefused(fixture).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_flipped_bit_in_safetensors_header_padding_is_refused_naming_the_file()
    {
        using PatchFixture fixture = WithPatch();
        TamperBase(fixture, "model-1.safetensors", bytes =>
        {
            int end = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal((byte)' ', bytes[end - 1]);
            bytes[end - 1] ^= 0x01;
        });

        // A header that no longer parses is refused as the base is opened, before any hashing or writing.
        Assert.Contains("model-1.safetensors", ApplyIsRefused(fixture).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_file_of_the_right_size_with_other_content_is_refused_with_both_hashes()
    {
        using PatchFixture fixture = WithPatch();
        byte[] bytes = TamperBase(fixture, "tokenizer.json", Array.Reverse);
        Assert.Contains(FileMismatch(fixture, "tokenizer.json", bytes), ApplyIsRefused(fixture).Message, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.BadInput, WaferCommandLine.Run(["apply", fixture.Base, fixture["update.wpatch"], "-o", fixture["cli-out"], "-q"]));
        AssertNothingWritten(fixture, "cli-out");
    }

    [Fact]
    public void An_archive_base_is_checked_by_the_sha256_it_records()
    {
        using PatchFixture fixture = WithPatch();
        byte[] bytes = TamperBase(fixture, "config.json", data => data[^2] ^= 0x01);
        WaferPacker.Pack(fixture.Base, fixture["base.wafer"]);
        WaferDataException e = ApplyIsRefused(fixture, baseModel: fixture["base.wafer"]);
        Assert.Contains($"{fixture["base.wafer"]}: is not the base this patch was made against: file 'config.json' has SHA-256 {Convert.ToHexStringLower(SHA256.HashData(bytes))}, the patch expects {RecordedBaseFile(fixture, "config.json").Sha256}.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_that_passes_the_xxh128_check_but_differs_still_writes_nothing()
    {
        // Stands in for a deliberate XXH3-128 collision: the patch is made to expect the tampered file's hash.
        using PatchFixture fixture = WithPatch();
        byte[] bytes = TamperBase(fixture, "model-1.safetensors", data => data[^3] ^= 0x10);
        ArchiveSurgery.RewriteManifest(fixture["update.wpatch"], fixture["colliding.wpatch"], manifest =>
        {
            JsonObject file = manifest["baseFiles"]!.AsArray().Select(f => f!.AsObject()).Single(f => (string)f["path"]! == "model-1.safetensors");
            file["xxh128"] = Xxh128(bytes);
        });

        // The rebuilt bytes are checked (each chunk's XXH3, each file's SHA-256) before the output gets its name.
        Assert.ThrowsAny<WaferIntegrityException>(() => WaferPatch.Apply(fixture.Base, fixture["colliding.wpatch"], fixture["out"]));
        AssertNothingWritten(fixture, "out");
    }

    [Fact]
    public void A_truncated_patch_is_refused()
    {
        using PatchFixture fixture = WithPatch();
        byte[] bytes = File.ReadAllBytes(fixture["update.wpatch"]);
        foreach (int cut in new[] { 0, 10, bytes.Length / 2, bytes.Length - 1 })
        {
            File.WriteAllBytes(fixture["cut.wpatch"], bytes.AsSpan(0, cut).ToArray());
            Assert.ThrowsAny<WaferDataException>(() => WaferPatch.Apply(fixture.Base, fixture["cut.wpatch"], fixture["out"]));
            AssertNothingWritten(fixture, "out");
        }
    }

    [Fact]
    public void A_corrupted_chunk_is_caught_and_leaves_no_output()
    {
        using PatchFixture fixture = WithPatch();
        byte[] bytes = File.ReadAllBytes(fixture["update.wpatch"]);
        long at;
        using (WaferArchive patch = WaferArchive.Open(fixture["update.wpatch"]))
        {
            at = patch.Manifest.Tensors.Single(t => t.Name == "layers.0.q.weight").Chunks[0].At;
        }

        bytes[at + 20] ^= 0x04;
        File.WriteAllBytes(fixture["bad.wpatch"], bytes);
        var e = Assert.Throws<WaferIntegrityException>(() => WaferPatch.Apply(fixture.Base, fixture["bad.wpatch"], fixture["out"]));
        Assert.Contains("layers.0.q.weight", e.Message, StringComparison.Ordinal);
        AssertNothingWritten(fixture, "out");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_corrupt_archive_base_fails_diff_with_its_integrity_error(int threads)
    {
        // Diff hashes both models' tensors on several threads; a failure there is the archive's own error, named.
        using var fixture = new PatchFixture();
        WaferPacker.Pack(fixture.Base, fixture["base.wafer"]);
        byte[] bytes = File.ReadAllBytes(fixture["base.wafer"]);
        using (WaferArchive archive = WaferArchive.Open(fixture["base.wafer"]))
        {
            bytes[archive.Manifest.Tensors.Single(t => t.Name == "layers.0.q.weight").Chunks[0].At + 20] ^= 0x04;
        }

        File.WriteAllBytes(fixture["base.wafer"], bytes);

        var e = Assert.Throws<WaferIntegrityException>(() => WaferPatch.Diff(fixture["base.wafer"], fixture.Target, fixture["update.wpatch"], new PatchOptions { Threads = threads }));

        Assert.Contains("layers.0.q.weight", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(fixture["update.wpatch"]));
    }

    [Fact]
    public void An_archive_is_not_a_patch()
    {
        using PatchFixture fixture = WithPatch();
        WaferPacker.Pack(fixture.Target, fixture["target.wafer"]);
        var e = Assert.Throws<WaferDataException>(() => WaferPatch.Apply(fixture.Base, fixture["target.wafer"], fixture["out"]));
        Assert.Contains("not a patch", e.Message, StringComparison.Ordinal);
        AssertNothingWritten(fixture, "out");
    }

    [Fact]
    public void The_cli_maps_failures_to_exit_codes_and_succeeds_on_good_input()
    {
        using PatchFixture fixture = WithPatch();
        Assert.Equal(ExitCodes.Success, WaferCommandLine.Run(["diff", fixture.Base, fixture.Target, "-o", fixture["cli.wpatch"], "-q", "--chunk-size", "4KiB"]));
        Assert.Equal(ExitCodes.Success, WaferCommandLine.Run(["apply", fixture.Base, fixture["cli.wpatch"], "-o", fixture["cli-out"], "-q"]));
        TestModel.AssertSameTree(fixture.Target, fixture["cli-out"]);

        Assert.Equal(ExitCodes.BadInput, WaferCommandLine.Run(["apply", fixture.Target, fixture["cli.wpatch"], "-o", fixture["wrong"], "-q"]));
        AssertNothingWritten(fixture, "wrong");

        byte[] bytes = File.ReadAllBytes(fixture["cli.wpatch"]);
        File.WriteAllBytes(fixture["cut.wpatch"], bytes.AsSpan(0, bytes.Length - 7).ToArray());
        Assert.Equal(ExitCodes.BadInput, WaferCommandLine.Run(["apply", fixture.Base, fixture["cut.wpatch"], "-o", fixture["cut"], "-q"]));
        AssertNothingWritten(fixture, "cut");

        Assert.Equal(ExitCodes.IoFailure, WaferCommandLine.Run(["apply", fixture.Base, fixture["missing.wpatch"], "-o", fixture["gone"], "-q"]));
        Assert.Equal(ExitCodes.IoFailure, WaferCommandLine.Run(["diff", fixture.Base, fixture.Target, "-o", fixture["cli.wpatch"], "-q"]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("upper-case")]
    [InlineData("one digit short")]
    [InlineData("one digit long")]
    [InlineData("not hex")]
    public void A_malformed_base_file_xxh128_is_refused_naming_the_patch_and_the_entry(string? lie)
    {
        using PatchFixture fixture = WithPatch();
        ArchiveSurgery.RewriteManifest(fixture["update.wpatch"], fixture["lying.wpatch"], manifest =>
        {
            JsonObject file = manifest["baseFiles"]![0]!.AsObject();
            string real = (string)file["xxh128"]!;
            switch (lie)
            {
                case null:
                    file.Remove("xxh128");
                    break;
                case "upper-case":
                    Assert.NotEqual(real, real.ToUpperInvariant());
                    file["xxh128"] = real.ToUpperInvariant();
                    break;
                case "one digit short":
                    file["xxh128"] = real[1..];
                    break;
                case "one digit long":
                    file["xxh128"] = real + "0";
                    break;
                case "not hex":
                    file["xxh128"] = "g" + real[1..];
                    break;
                default:
                    file["xxh128"] = lie;
                    break;
            }
        });
        string entry;
        using (WaferArchive patch = WaferArchive.Open(fixture["update.wpatch"]))
        {
            entry = patch.Manifest.BaseFiles![0].Path;
        }

        WaferDataException e = ApplyIsRefused(fixture, "lying.wpatch");
        Assert.Contains($"{fixture["lying.wpatch"]}: bad patch manifest: base file entry '{entry}' has a malformed xxh128", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tensor base index", "refers to base tensor #")]
    [InlineData("base tensor range", "lies outside base file")]
    [InlineData("delta chunk without base", "has no base bytes to decode against")]
    [InlineData("base file hash", "base file entry")]
    [InlineData("archive kind", "only a patch may use")]
    [InlineData("base dtype with fewer elements", "has no base bytes to decode against")]
    public void Lying_patch_manifests_are_refused_before_anything_is_written(string lie, string expected)
    {
        using PatchFixture fixture = WithPatch();
        ArchiveSurgery.RewriteManifest(fixture["update.wpatch"], fixture["lying.wpatch"], manifest =>
        {
            JsonArray tensors = manifest["tensors"]!.AsArray();
            JsonObject q = tensors.Select(t => t!.AsObject()).Single(t => (string)t["name"]! == "layers.0.q.weight");
            switch (lie)
            {
                case "tensor base index":
                    q["base"] = 9999;
                    break;
                case "base tensor range":
                    manifest["baseTensors"]![(int)q["base"]!]!["offset"] = 1L << 40;
                    break;
                case "delta chunk without base":
                    q.Remove("base");
                    break;
                case "base file hash":
                    manifest["baseFiles"]![0]!["sha256"] = "abc";
                    break;
                case "base dtype with fewer elements":
                    // F32 converts to the BF16 target, but the same bytes then hold half as many elements.
                    manifest["baseTensors"]![(int)q["base"]!]!["dtype"] = "F32";
                    break;
                default:
                    manifest["kind"] = "archive";
                    break;
            }
        });
        var e = Assert.ThrowsAny<WaferDataException>(() => WaferPatch.Apply(fixture.Base, fixture["lying.wpatch"], fixture["out"]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        AssertNothingWritten(fixture, "out");
    }
}
