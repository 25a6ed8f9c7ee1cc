using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Wafer.Delta;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Delta;

public class PatchRoundTripTests
{
    private static readonly PatchOptions s_small = new() { ChunkSize = PatchFixture.ChunkSize, Threads = 2 };

    [Fact]
    public void Diff_then_apply_rebuilds_the_target_byte_for_byte()
    {
        using var fixture = new PatchFixture();
        PatchResult result = WaferPatch.Diff(fixture.Base, fixture.Target, fixture["update.wpatch"], s_small);
        WaferPatch.Apply(fixture.Base, fixture["update.wpatch"], fixture["out"]);
        TestModel.AssertSameTree(fixture.Target, fixture["out"]);

        Assert.Equal(new PatchChanges(Unchanged: 2, Modified: 4, Reshaped: 1, Added: 1, Removed: 1, Renamed: 2), result.Tensors);
        Assert.Equal(1, result.Files.Added);
        Assert.Equal(1, result.Files.Renamed);
        Assert.Equal(1, result.Files.Removed);
        Assert.Equal(1, result.Files.Unchanged);
        Assert.Equal(4, result.Files.Modified);
        Assert.True(result.PatchBytes < result.TargetBytes, $"patch {result.PatchBytes} bytes, target {result.TargetBytes}");
    }

    [Fact]
    public void Patch_records_change_kinds_and_codes_unchanged_tensors_as_same()
    {
        using var fixture = new PatchFixture();
        WaferPatch.Diff(fixture.Base, fixture.Target, fixture["update.wpatch"], s_small);
        using WaferArchive patch = WaferArchive.Open(fixture["update.wpatch"]);
        Assert.True(patch.IsPatch);
        global::Wafer.Archive.Manifest.ManifestDocument manifest = patch.Manifest;
        Assert.Equal("reshaped", manifest.Tensors.Single(t => t.Name == "embed.weight").Change);
        Assert.Equal("renamed", manifest.Tensors.Single(t => t.Name == "new_name.weight").Change);
        Assert.Equal("renamed", manifest.Tensors.Single(t => t.Name == "moved.weight").Change);
        Assert.Equal("added", manifest.Tensors.Single(t => t.Name == "added.weight").Change);
        Assert.All(manifest.Tensors.Single(t => t.Name == "layers.0.k.weight").Chunks, c => Assert.Equal("same", c.Codec));
        Assert.All(manifest.Tensors.Single(t => t.Name == "new_name.weight").Chunks, c => Assert.Equal(0, c.Stored));

        // The grown embedding: the 64 common rows against the base, the 8 new rows standalone.
        var embed = manifest.Tensors.Single(t => t.Name == "embed.weight");
        Assert.Contains(embed.Chunks, c => c.Codec.StartsWith("delta-", StringComparison.Ordinal));
        Assert.Equal(64 * 32 * 2, embed.Chunks.TakeWhile(c => c.Codec.StartsWith("delta-", StringComparison.Ordinal) || c.Codec == "same").Sum(c => (long)c.Size));
        Assert.Throws<WaferDataException>(() => patch.Unpack(fixture["nope"]));
        Assert.False(Directory.Exists(fixture["nope"]));
    }

    [Fact]
    public void Base_and_target_may_be_archives_and_apply_may_write_an_archive()
    {
        using var fixture = new PatchFixture();
        WaferPacker.Pack(fixture.Base, fixture["base.wafer"]);
        WaferPacker.Pack(fixture.Target, fixture["target.wafer"]);
        WaferPatch.Diff(fixture["base.wafer"], fixture["target.wafer"], fixture["update.wpatch"], s_small);
        WaferPatch.Apply(fixture["base.wafer"], fixture["update.wpatch"], fixture["rebuilt.wafer"], new ApplyOptions { AsArchive = true });
        using (WaferArchive rebuilt = WaferArchive.Open(fixture["rebuilt.wafer"]))
        {
            rebuilt.Unpack(fixture["out"]);
        }

        TestModel.AssertSameTree(fixture.Target, fixture["out"]);

        // The same patch from folders applies to the base folder too: the patch does not depend on the containers.
        WaferPatch.Apply(fixture.Base, fixture["update.wpatch"], fixture["out2"]);
        TestModel.AssertSameTree(fixture.Target, fixture["out2"]);
    }

    [Fact]
    public void Patch_records_each_base_file_by_sha256_and_xxh128_whatever_the_base_container()
    {
        using var fixture = new PatchFixture();
        WaferPatch.Diff(fixture.Base, fixture.Target, fixture["folder.wpatch"], s_small);
        WaferPacker.Pack(fixture.Base, fixture["base.wafer"]);
        WaferPatch.Diff(fixture["base.wafer"], fixture.Target, fixture["archive.wpatch"], s_small);
        using WaferArchive fromFolder = WaferArchive.Open(fixture["folder.wpatch"]);
        using WaferArchive fromArchive = WaferArchive.Open(fixture["archive.wpatch"]);
        List<global::Wafer.Archive.Manifest.BaseFileEntry> files = fromFolder.Manifest.BaseFiles!;
        Assert.NotEmpty(files);
        foreach (global::Wafer.Archive.Manifest.BaseFileEntry file in files)
        {
            // Known answers from the hash libraries themselves, not from the patcher's own hashing.
            byte[] bytes = File.ReadAllBytes(Path.Combine(fixture.Base, file.Path));
            Assert.Equal(bytes.Length, file.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), file.Sha256);
            Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(bytes)), file.Xxh128);
        }

        // An archive base records its SHA-256 and decodes its files for the XXH3-128: the same entries either way.
        Assert.Equal(
            files.Select(f => (f.Path, f.Size, f.Sha256, f.Xxh128)),
            fromArchive.Manifest.BaseFiles!.Select(f => (f.Path, f.Size, f.Sha256, f.Xxh128)));
    }

    /// <summary>
    /// A BF16 model and its fine-tune, both cast up to F32 or both cast to F16 (as many hub repositories store them):
    /// the patch codes those tensors as their BF16 values, so it is about as small as the BF16 pair's, not larger by
    /// the dead bits of every changed value (16 in F32, 3 in F16).
    /// </summary>
    [Fact]
    public void Bf16_models_cast_up_to_F32_or_to_F16_patch_as_small_as_the_bf16_pair()
    {
        using var folder = new TempFolder();
        var random = new Random(21);
        var pairs = new List<(string Name, byte[] Base, byte[] Target)>();
        foreach ((string name, int count) in new[] { ("layers.0.q.weight", 300_000), ("layers.0.k.weight", 70_000), ("norm.weight", 384) })
        {
            byte[] b = TestModel.Bf16(random, count, 0.02);
            pairs.Add((name, b, TestModel.FineTuneBf16(random, b, 0.002)));
        }

        foreach (string kind in new[] { "BF16", "F32", "F16" })
        {
            TestModel.WriteSafetensors(folder[$"{kind}-base/model.safetensors"], [.. pairs.Select(p => Tensor(p.Name, p.Base, kind))]);
            TestModel.WriteSafetensors(folder[$"{kind}-target/model.safetensors"], [.. pairs.Select(p => Tensor(p.Name, p.Target, kind))]);
        }

        PatchResult bf16 = WaferPatch.Diff(folder["BF16-base"], folder["BF16-target"], folder["BF16.wpatch"]);
        PatchResult f32 = WaferPatch.Diff(folder["F32-base"], folder["F32-target"], folder["F32.wpatch"]);
        WaferPatch.Apply(folder["F32-base"], folder["F32.wpatch"], folder["F32-out"]);
        TestModel.AssertSameTree(folder["F32-target"], folder["F32-out"]);
        Assert.InRange(f32.PatchBytes, bf16.PatchBytes - 200, bf16.PatchBytes + 200);
        Assert.True(f32.PatchBytes < f32.TargetBytes / 4, $"patch {f32.PatchBytes} bytes, F32 target {f32.TargetBytes}");

        // F16 rounds the smallest BF16 values (below 2^-14) to its subnormals, so the pair differs a little from the
        // BF16 one; without the narrow chunks the patch is about a third larger.
        PatchResult f16 = WaferPatch.Diff(folder["F16-base"], folder["F16-target"], folder["F16.wpatch"]);
        WaferPatch.Apply(folder["F16-base"], folder["F16.wpatch"], folder["F16-out"]);
        TestModel.AssertSameTree(folder["F16-target"], folder["F16-out"]);
        Assert.InRange(f16.PatchBytes, bf16.PatchBytes * 0.99, bf16.PatchBytes * 1.01);

        static TestModel.Tensor Tensor(string name, byte[] bf16, string kind)
        {
            int count = bf16.Length / 2;
            byte[] data = new byte[count * (kind == "F32" ? 4 : 2)];
            for (int i = 0; i < count; i++)
            {
                uint single = (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(2 * i)) << 16;
                switch (kind)
                {
                    case "F32":
                        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 * i), single);
                        break;
                    case "F16":
                        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), (Half)BitConverter.UInt32BitsToSingle(single));
                        break;
                    default:
                        bf16.AsSpan(2 * i, 2).CopyTo(data.AsSpan(2 * i));
                        break;
                }
            }

            return new(name, kind, [count], data);
        }
    }

    /// <summary>
    /// An F16 model and its fine-tune, both cast up to F32: the patch codes the F32 tensors as their F16 values, so it
    /// is about as small as the F16 pair's, not larger by the 13 dead bits of every changed value (before, it was as
    /// large as the target's own archive).
    /// </summary>
    [Fact]
    public void F16_models_cast_up_to_F32_patch_as_small_as_the_f16_pair()
    {
        using var folder = new TempFolder();
        var random = new Random(22);
        var pairs = new List<(string Name, Half[] Base, Half[] Target)>();
        foreach ((string name, int count) in new[] { ("layers.0.q.weight", 200_000), ("layers.0.k.weight", 70_000), ("norm.weight", 384) })
        {
            byte[] b = TestModel.F32(random, count, 0.02);
            byte[] t = TestModel.FineTuneF32(random, b, 0.0002);
            pairs.Add((name, ToHalves(b), ToHalves(t)));
        }

        foreach (string kind in new[] { "F16", "F32" })
        {
            TestModel.WriteSafetensors(folder[$"{kind}-base/model.safetensors"], [.. pairs.Select(p => Tensor(p.Name, p.Base, kind))]);
            TestModel.WriteSafetensors(folder[$"{kind}-target/model.safetensors"], [.. pairs.Select(p => Tensor(p.Name, p.Target, kind))]);
        }

        PatchResult f16 = WaferPatch.Diff(folder["F16-base"], folder["F16-target"], folder["F16.wpatch"]);
        PatchResult f32 = WaferPatch.Diff(folder["F32-base"], folder["F32-target"], folder["F32.wpatch"]);
        WaferPatch.Apply(folder["F32-base"], folder["F32.wpatch"], folder["F32-out"]);
        TestModel.AssertSameTree(folder["F32-target"], folder["F32-out"]);
        Assert.InRange(f32.PatchBytes, f16.PatchBytes - 200, f16.PatchBytes + 200);
        Assert.True(f32.PatchBytes < f32.TargetBytes / 4, $"patch {f32.PatchBytes} bytes, F32 target {f32.TargetBytes}");

        static Half[] ToHalves(byte[] f32) =>
            [.. Enumerable.Range(0, f32.Length / 4).Select(i => (Half)BinaryPrimitives.ReadSingleLittleEndian(f32.AsSpan(4 * i)))];

        static TestModel.Tensor Tensor(string name, Half[] values, string kind)
        {
            int width = kind == "F32" ? 4 : 2;
            byte[] data = new byte[values.Length * width];
            for (int i = 0; i < values.Length; i++)
            {
                if (kind == "F32")
                {
                    BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), (float)values[i]);
                }
                else
                {
                    BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), values[i]);
                }
            }

            return new(name, kind, [values.Length], data);
        }
    }

    /// <summary>
    /// Tensors whose dtype changed between base and target are coded against the base converted to the target's
    /// dtype: BF16 or F16 widened to F32 exactly, F32 rounded to BF16 or F16 to nearest even, BF16 and F16 through F32.
    /// A model cast down from its base (as .NET's Half cast, IEEE round-to-nearest-even) costs next to nothing; a
    /// fine-tune saved in F32 from a BF16 base costs what its BF16 changes cost. F32 → F8_E4M3 does not convert, so that
    /// tensor is coded standalone; a grown vocabulary still codes its common rows against the base.
    /// </summary>
    [Fact]
    public void Tensors_that_changed_dtype_patch_against_their_converted_base()
    {
        using var folder = new TempFolder();
        var random = new Random(23);
        byte[] weights = TestModel.Bf16(random, 200_000, 0.02);
        byte[] tuned = TestModel.FineTuneBf16(random, weights, 0.002);
        byte[] master = TestModel.F32(random, 50_000, 0.02);
        byte[] embed = TestModel.Bf16(random, 64 * 32, 0.02);
        byte[] grown = [.. TestModel.FineTuneBf16(random, embed, 0.002), .. TestModel.Bf16(random, 8 * 32, 0.02)];
        byte[] halfWeights = new byte[40_000];
        for (int i = 0; i < halfWeights.Length / 2; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(halfWeights.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)(random.NextDouble() - 0.5)));
        }

        byte[] halfTuned = Widened(halfWeights, DType.F16);
        for (int i = 0; i < halfTuned.Length; i += 12)
        {
            halfTuned[i + 2] ^= 1;
        }

        byte[] roundedMaster = new byte[master.Length / 2];
        BaseConversion.RoundToBFloat16Scalar(master, roundedMaster);
        TestModel.WriteSafetensors(folder["base/model.safetensors"],
        [
            new("w.weight", "BF16", [200_000], weights),
            new("master.weight", "F32", [50_000], master),
            new("half.weight", "F16", [20_000], halfWeights),
            new("narrowed.weight", "F32", [50_000], master),
            new("eight.weight", "F32", [1000], master.AsSpan(0, 4000).ToArray()),
            new("to-half.weight", "BF16", [200_000], weights),
            new("embed.weight", "BF16", [64, 32], embed),
            new("ints.weight", "I32", [1000], master.AsSpan(0, 4000).ToArray()),
            new("reinterpreted.weight", "BF16", [2000], master.AsSpan(0, 4000).ToArray()),
        ]);
        TestModel.WriteSafetensors(folder["target/model.safetensors"],
        [
            new("w.weight", "F32", [200_000], Widened(tuned, DType.BF16)),
            new("master.weight", "BF16", [50_000], roundedMaster),
            new("half.weight", "F32", [20_000], halfTuned),
            new("narrowed.weight", "F16", [50_000], Narrowed(master)),
            new("eight.weight", "F8_E4M3", [1000], master.AsSpan(0, 1000).ToArray()),
            new("to-half.weight", "F16", [200_000], Narrowed(Widened(weights, DType.BF16))),
            new("embed.weight", "F32", [72, 32], Widened(grown, DType.BF16)),

            // The same bytes under another dtype are a rename, coded against the bytes as they are, whether the pair
            // converts (BF16 -> F32, half as many elements) or not (I32 -> F32).
            new("ints.weight", "F32", [1000], master.AsSpan(0, 4000).ToArray()),
            new("reinterpreted.weight", "F32", [1000], master.AsSpan(0, 4000).ToArray()),
        ]);
        TestModel.WriteSafetensors(folder["bf16-base/model.safetensors"], [new("w.weight", "BF16", [200_000], weights)]);
        TestModel.WriteSafetensors(folder["bf16-target/model.safetensors"], [new("w.weight", "BF16", [200_000], tuned)]);

        PatchResult result = WaferPatch.Diff(folder["base"], folder["target"], folder["update.wpatch"], new PatchOptions { ChunkSize = 2 * PatchFixture.ChunkSize });
        WaferPatch.Apply(folder["base"], folder["update.wpatch"], folder["out"]);
        TestModel.AssertSameTree(folder["target"], folder["out"]);

        using WaferArchive patch = WaferArchive.Open(folder["update.wpatch"]);
        global::Wafer.Archive.Manifest.ManifestDocument manifest = patch.Manifest;
        long Stored(string name) => manifest.Tensors.Single(t => t.Name == name).Chunks.Sum(c => c.Stored);
        foreach (string name in new[] { "w.weight", "master.weight", "half.weight", "embed.weight" })
        {
            Assert.NotNull(manifest.Tensors.Single(t => t.Name == name).Base);
        }

        Assert.Null(manifest.Tensors.Single(t => t.Name == "eight.weight").Base);
        foreach (string castDown in new[] { "master.weight", "narrowed.weight", "to-half.weight" })
        {
            Assert.All(manifest.Tensors.Single(t => t.Name == castDown).Chunks, c => Assert.Equal("same", c.Codec));
        }

        foreach (string renamed in new[] { "ints.weight", "reinterpreted.weight" })
        {
            Assert.All(manifest.Tensors.Single(t => t.Name == renamed).Chunks, c => Assert.Equal("same", c.Codec));
            Assert.Equal("renamed", manifest.Tensors.Single(t => t.Name == renamed).Change);
        }

        Assert.Equal("reshaped", manifest.Tensors.Single(t => t.Name == "embed.weight").Change);
        Assert.Contains(manifest.Tensors.Single(t => t.Name == "embed.weight").Chunks, c => c.Codec.StartsWith("delta-", StringComparison.Ordinal));

        // The F32 fine-tune of a BF16 base costs what the BF16 fine-tune costs against it, chunked alike (as many
        // elements a chunk: half the bytes).
        WaferPatch.Diff(folder["bf16-base"], folder["bf16-target"], folder["bf16.wpatch"], s_small);
        using WaferArchive bf16Patch = WaferArchive.Open(folder["bf16.wpatch"]);
        long bf16Stored = bf16Patch.Manifest.Tensors.Single().Chunks.Sum(c => c.Stored);
        Assert.InRange(Stored("w.weight"), bf16Stored - 400, bf16Stored + 400);
        // A third of the F16-exact values moved by 2^16 ulps of F32: far less than their ~11 live bits standalone.
        Assert.True(Stored("half.weight") < halfTuned.Length / 4, $"{Stored("half.weight")} bytes for {halfTuned.Length}");
        PackResult archive = WaferPacker.Pack(folder["target"], folder["target.wafer"], new PackOptions { ChunkSize = 2 * PatchFixture.ChunkSize });
        Assert.True(result.PatchBytes < archive.ArchiveBytes * 3 / 4, $"patch {result.PatchBytes} bytes, the target's archive {archive.ArchiveBytes}");

        static byte[] Widened(byte[] source, DType dtype)
        {
            byte[] wide = new byte[source.Length * 2];
            BaseConversion.Convert(source, dtype, wide, DType.F32);
            return wide;
        }

        static byte[] Narrowed(byte[] f32)
        {
            byte[] half = new byte[f32.Length / 2];
            for (int i = 0; i < half.Length / 2; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(half.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)BinaryPrimitives.ReadSingleLittleEndian(f32.AsSpan(4 * i))));
            }

            return half;
        }
    }

    /// <summary>
    /// <c>wafer diff old.safetensors new.safetensors</c>: one file against one file is a modified file whatever the two
    /// names, its header coded against the base's header, not one file added and another removed.
    /// </summary>
    [Fact]
    public void One_file_against_one_file_of_another_name_is_a_modified_file()
    {
        using var folder = new TempFolder();
        var random = new Random(31);
        var names = Enumerable.Range(0, 40).Select(i => $"model.layers.{i}.mlp.down_proj.weight").ToList();
        var weights = names.Select(_ => TestModel.Bf16(random, 2048, 0.02)).ToList();
        TestModel.WriteSafetensors(folder["old.safetensors"], [.. names.Select((n, i) => new TestModel.Tensor(n, "BF16", [32, 64], weights[i]))]);
        TestModel.WriteSafetensors(folder["new.safetensors"], [.. names.Select((n, i) => new TestModel.Tensor(n, "BF16", [32, 64], TestModel.FineTuneBf16(random, weights[i], 0.002)))]);

        PatchResult result = WaferPatch.Diff(folder["old.safetensors"], folder["new.safetensors"], folder["update.wpatch"], s_small);
        Assert.Equal(new PatchChanges(Unchanged: 0, Modified: 1, Reshaped: 0, Added: 0, Removed: 0, Renamed: 0), result.Files);
        Assert.Equal(40, result.Tensors.Modified);
        using (WaferArchive patch = WaferArchive.Open(folder["update.wpatch"]))
        {
            global::Wafer.Archive.Manifest.BlobEntry header = patch.Manifest.Blobs.Single();
            Assert.NotNull(header.Base);
            Assert.All(header.Chunks, c => Assert.Contains(c.Codec, new[] { "same", "zstd-ref" }));
            Assert.Equal("modified", patch.Manifest.Files.Single().Change);
        }

        WaferPatch.Apply(folder["old.safetensors"], folder["update.wpatch"], folder["out"]);
        Assert.Equal(File.ReadAllBytes(folder["new.safetensors"]), File.ReadAllBytes(folder["out/new.safetensors"]));

        // The same bytes under the new name: renamed, still one file against one.
        File.Copy(folder["old.safetensors"], folder["copy.safetensors"]);
        PatchResult copy = WaferPatch.Diff(folder["old.safetensors"], folder["copy.safetensors"], folder["copy.wpatch"], s_small);
        Assert.Equal(new PatchChanges(Unchanged: 0, Modified: 0, Reshaped: 0, Added: 0, Removed: 0, Renamed: 1), copy.Files);
        WaferPatch.Apply(folder["old.safetensors"], folder["copy.wpatch"], folder["out2"]);
        Assert.Equal(File.ReadAllBytes(folder["old.safetensors"]), File.ReadAllBytes(folder["out2/copy.safetensors"]));
    }

    /// <summary>
    /// A 2:4-pruned copy of a model (two of every four weights of each matrix zeroed, the rest kept) ships as its zeros'
    /// bitmap and the kept weights against the base: a few percent of the target, where its own archive needs a third.
    /// </summary>
    [Fact]
    public void A_pruned_model_patches_to_its_zero_pattern()
    {
        using var folder = new TempFolder();
        var random = new Random(29);
        var names = Enumerable.Range(0, 6).Select(i => $"model.layers.{i}.mlp.up_proj.weight").ToList();
        var weights = names.Select(_ => TestModel.Bf16(random, 64 * 1024, 0.02)).ToList();
        var pruned = weights.Select(w =>
        {
            byte[] p = (byte[])w.Clone();
            for (int i = 0; i < p.Length / 2; i += 4)
            {
                foreach (int j in Enumerable.Range(i, 4).OrderBy(j => Math.Abs(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(w.AsSpan(2 * j)) << 16))).Take(2))
                {
                    p[2 * j] = 0;
                    p[(2 * j) + 1] = 0;
                }
            }

            return p;
        }).ToList();
        TestModel.WriteSafetensors(folder["base/model.safetensors"], [.. names.Select((n, i) => new TestModel.Tensor(n, "BF16", [64, 1024], weights[i]))]);
        TestModel.WriteSafetensors(folder["pruned/model.safetensors"], [.. names.Select((n, i) => new TestModel.Tensor(n, "BF16", [64, 1024], pruned[i]))]);

        PatchResult result = WaferPatch.Diff(folder["base"], folder["pruned"], folder["update.wpatch"]);
        WaferPatch.Apply(folder["base"], folder["update.wpatch"], folder["out"]);
        TestModel.AssertSameTree(folder["pruned"], folder["out"]);
        using (WaferArchive patch = WaferArchive.Open(folder["update.wpatch"]))
        {
            Assert.All(patch.Manifest.Tensors.SelectMany(t => t.Chunks), c => Assert.Equal("delta-sparse", c.Codec));
        }

        PackResult archive = WaferPacker.Pack(folder["pruned"], folder["pruned.wafer"]);
        Assert.True(result.PatchBytes < result.TargetBytes / 10, $"patch {result.PatchBytes} bytes of {result.TargetBytes}");
        Assert.True(result.PatchBytes < archive.ArchiveBytes / 4, $"patch {result.PatchBytes} bytes, the target's archive {archive.ArchiveBytes}");
    }

    [Fact]
    public void Patch_bytes_do_not_depend_on_the_thread_count()
    {
        using var fixture = new PatchFixture();
        WaferPatch.Diff(fixture.Base, fixture.Target, fixture["one.wpatch"], new PatchOptions { ChunkSize = PatchFixture.ChunkSize, Threads = 1 });
        WaferPatch.Diff(fixture.Base, fixture.Target, fixture["two.wpatch"], new PatchOptions { ChunkSize = PatchFixture.ChunkSize, Threads = 2 });
        Assert.Equal(File.ReadAllBytes(fixture["one.wpatch"]), File.ReadAllBytes(fixture["two.wpatch"]));
    }

    [Fact]
    public void A_model_diffed_against_itself_is_all_same_chunks()
    {
        using var fixture = new PatchFixture();
        PatchResult result = WaferPatch.Diff(fixture.Base, fixture.Base, fixture["self.wpatch"], s_small);
        Assert.Equal(0, result.Tensors.Modified + result.Tensors.Added + result.Tensors.Removed + result.Tensors.Renamed);
        using (WaferArchive patch = WaferArchive.Open(fixture["self.wpatch"]))
        {
            Assert.All(patch.GetCodecUsage(), row => Assert.Equal(0, row.StoredBytes));
        }

        WaferPatch.Apply(fixture.Base, fixture["self.wpatch"], fixture["out"]);
        TestModel.AssertSameTree(fixture.Base, fixture["out"]);
    }

    [RealDataFact("bytelm-base", "bytelm-ft-doc")]
    public void Real_fine_tune_round_trips_byte_identical()
    {
        using var folder = new TempFolder();
        string root = RealData.Folder!;
        PatchResult result = WaferPatch.Diff(Path.Combine(root, "bytelm-base"), Path.Combine(root, "bytelm-ft-doc"), folder["doc.wpatch"]);
        WaferPatch.Apply(Path.Combine(root, "bytelm-base"), folder["doc.wpatch"], folder["out"]);
        TestModel.AssertSameTree(Path.Combine(root, "bytelm-ft-doc"), folder["out"]);
        Assert.True(result.PatchBytes < result.TargetBytes * 0.40, $"patch is {100.0 * result.PatchBytes / result.TargetBytes:0.0}% of the target");
    }

    /// <summary>On real pairs a patch is never larger than the target's own archive (which carries its manifest too).</summary>
    [RealDataTheory]
    [InlineData("bytelm-base", "bytelm-ft-code")]
    [InlineData("bytelm-base-ckpt/checkpoint-200", "bytelm-base-ckpt/checkpoint-300")]
    [InlineData("optim-run/checkpoint-40", "optim-run/checkpoint-80")]
    [InlineData("lora-gpt2/checkpoint-500", "lora-gpt2/checkpoint-1000")]
    public void Real_patches_are_no_larger_than_the_target_archive(string baseName, string targetName)
    {
        string root = RealData.Folder!;
        string target = Path.Combine(root, targetName);
        using var folder = new TempFolder();
        PatchResult result = WaferPatch.Diff(Path.Combine(root, baseName), target, folder["update.wpatch"]);
        PackResult archive = WaferPacker.Pack(target, folder["target.wafer"]);
        Assert.True(result.PatchBytes <= archive.ArchiveBytes, $"{baseName} → {targetName}: patch {result.PatchBytes} bytes, target archive {archive.ArchiveBytes}");
    }

    [Fact]
    public void Every_float_dtype_and_awkward_sizes_round_trip_through_a_patch()
    {
        using var folder = new TempFolder();
        var random = new Random(99);
        int chunk = PatchFixture.ChunkSize;
        var baseTensors = new List<TestModel.Tensor>();
        var targetTensors = new List<TestModel.Tensor>();
        foreach ((string dtype, int width) in new[] { ("BF16", 2), ("F16", 2), ("F32", 4), ("F8_E4M3", 1), ("F8_E5M2", 1), ("F64", 8), ("I32", 4) })
        {
            foreach (int bytes in new[] { 0, width, 16 * width, chunk - width, chunk, chunk + width, (2 * chunk) + width })
            {
                byte[] b = new byte[bytes];
                random.NextBytes(b);
                byte[] t = (byte[])b.Clone();
                for (int i = 0; i < t.Length; i += 1 + random.Next(3))
                {
                    t[i] ^= (byte)(1 << random.Next(3));
                }

                long[] shape = [bytes / width];
                baseTensors.Add(new($"{dtype}.{bytes}", dtype, shape, b));
                targetTensors.Add(new($"{dtype}.{bytes}", dtype, shape, t));
            }
        }

        TestModel.WriteSafetensors(folder["base/model.safetensors"], baseTensors);
        TestModel.WriteSafetensors(folder["target/model.safetensors"], targetTensors);
        PatchResult result = WaferPatch.Diff(folder["base"], folder["target"], folder["p.wpatch"], new PatchOptions { ChunkSize = chunk });
        WaferPatch.Apply(folder["base"], folder["p.wpatch"], folder["out"]);
        TestModel.AssertSameTree(folder["target"], folder["out"]);

        // Each dtype's empty tensor starts where the next one does; it is unchanged, every other tensor modified.
        Assert.Equal(new PatchChanges(7, 42, 0, 0, 0, 0), result.Tensors);
    }

    [Fact]
    public void Identical_added_chunks_are_stored_once()
    {
        using var folder = new TempFolder();
        var random = new Random(5);
        byte[] shared = TestModel.Bf16(random, 3000, 0.02);
        TestModel.WriteSafetensors(folder["base/model.safetensors"], [new("a", "BF16", [100], TestModel.Bf16(random, 100, 0.02))]);
        TestModel.WriteSafetensors(folder["target/model.safetensors"],
        [
            new("a", "BF16", [100], TestModel.Bf16(random, 100, 0.02)),
            new("embed", "BF16", [3000], shared),
            new("head", "BF16", [3000], shared),
        ]);
        WaferPatch.Diff(folder["base"], folder["target"], folder["p.wpatch"], new PatchOptions { ChunkSize = PatchFixture.ChunkSize });
        using (WaferArchive patch = WaferArchive.Open(folder["p.wpatch"]))
        {
            var embed = patch.Manifest.Tensors.Single(t => t.Name == "embed").Chunks;
            var head = patch.Manifest.Tensors.Single(t => t.Name == "head").Chunks;
            Assert.Equal(embed.Select(c => c.At), head.Select(c => c.At));
        }

        WaferPatch.Apply(folder["base"], folder["p.wpatch"], folder["out"]);
        TestModel.AssertSameTree(folder["target"], folder["out"]);
    }
}
