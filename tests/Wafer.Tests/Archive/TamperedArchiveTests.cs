using System.Text.Json.Nodes;
using Wafer.Codecs;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Archive;

public sealed class TamperedArchiveTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public TamperedArchiveTests()
    {
        ModelFolderFixture.Write(_temp["model"]);
        WaferPacker.Pack(_temp["model"], _temp["a.wafer"], new PackOptions { ChunkSize = ModelFolderFixture.SmallChunk, Codec = CodecChoice.Zstd });
    }

    public void Dispose() => _temp.Dispose();

    private void AssertNothingRestored() =>
        Assert.DoesNotContain(_temp.Entries(), e => e.StartsWith("restored", StringComparison.Ordinal));

    private WaferDataException UnpackFails()
    {
        var error = Assert.ThrowsAny<WaferDataException>(() =>
        {
            using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);
            archive.Unpack(_temp["restored"]);
        });
        AssertNothingRestored();
        return error;
    }

    [Fact]
    public void Every_truncation_is_rejected_at_open()
    {
        byte[] bytes = File.ReadAllBytes(_temp["a.wafer"]);
        foreach (int length in new[] { 0, 1, 15, 16, 55, 56, bytes.Length / 2, bytes.Length - 41, bytes.Length - 40, bytes.Length - 1 })
        {
            File.WriteAllBytes(_temp["cut.wafer"], bytes[..length]);
            var error = Assert.ThrowsAny<WaferDataException>(() => WaferArchive.Open(_temp["cut.wafer"]).Dispose());
            Assert.Contains("cut.wafer", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Not_an_archive_is_named_as_such()
    {
        File.WriteAllText(_temp["x.wafer"], new string('x', 200));

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferArchive.Open(_temp["x.wafer"]).Dispose());

        Assert.Contains("not a Wafer archive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flipped_bit_in_a_tensor_payload_is_named_by_verify_and_stops_unpack()
    {
        long at;
        using (WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]))
        {
            at = FirstChunkOffset(archive, archive.FindTensors("every.F32")[0]);
        }

        ArchiveSurgery.FlipBit(_temp["a.wafer"], at + 5, 3);

        using (WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]))
        {
            VerifyReport report = archive.Verify();
            Assert.False(report.IsIntact);
            Assert.Contains(report.Problems, p => p.Contains("tensor 'every.F32'", StringComparison.Ordinal));
            Assert.Contains(report.Problems, p => p.Contains("model-00001-of-00002.safetensors", StringComparison.Ordinal));
            Assert.DoesNotContain(report.Problems, p => p.Contains("config.json", StringComparison.Ordinal));
        }

        var error = Assert.IsType<WaferIntegrityException>(UnpackFails());
        Assert.Contains("every.F32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_one_tensor_touches_only_its_own_chunks()
    {
        long at;
        using (WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]))
        {
            at = FirstChunkOffset(archive, archive.FindTensors("every.F32")[0]);
        }

        ArchiveSurgery.FlipBit(_temp["a.wafer"], at);

        using WaferArchive damaged = WaferArchive.Open(_temp["a.wafer"]);
        ArchiveTensor intact = damaged.FindTensors("every.BF16")[0];
        damaged.ReadTensor(intact, new byte[intact.Size]);
        ArchiveTensor broken = damaged.FindTensors("every.F32")[0];
        var error = Assert.Throws<WaferIntegrityException>(() => damaged.ReadTensor(broken, new byte[broken.Size]));
        Assert.Contains("every.F32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flipped_bit_anywhere_is_caught_by_open_or_verify()
    {
        byte[] original = File.ReadAllBytes(_temp["a.wafer"]);
        var random = new Random(3);
        for (int trial = 0; trial < 100; trial++)
        {
            long offset = trial < 16 ? trial : trial < 56 ? original.Length - 56 + trial : random.NextInt64(original.Length);
            File.WriteAllBytes(_temp["a.wafer"], original);
            ArchiveSurgery.FlipBit(_temp["a.wafer"], offset, random.Next(8));
            bool caught;
            try
            {
                using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);
                caught = !archive.Verify().IsIntact;
            }
            catch (WaferDataException)
            {
                caught = true;
            }

            // Alignment padding between payloads is not covered by any checksum and is allowed to change.
            Assert.True(caught || IsPadding(original, offset), $"a flipped bit at {offset} went unnoticed");
        }
    }

    [Fact]
    public void A_flipped_manifest_bit_fails_the_manifest_checksum()
    {
        (long offset, long length) = ArchiveSurgery.ManifestRange(_temp["a.wafer"]);
        ArchiveSurgery.FlipBit(_temp["a.wafer"], offset + (length / 2));

        var error = Assert.IsType<WaferIntegrityException>(UnpackFails());
        Assert.Contains("manifest", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("nested/../../escape.txt")]
    [InlineData("/etc/escape.txt")]
    [InlineData("C:/escape.txt")]
    [InlineData("nested\\..\\escape.txt")]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData("./a")]
    public void Manifest_paths_that_escape_the_output_folder_are_refused(string path)
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m => m["files"]![0]!["path"] = path);

        var error = UnpackFails();

        Assert.Contains("unsafe", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_temp.Path, "escape.txt")));
    }

    [Theory]
    [InlineData("size", 1 << 30, "allowed")]
    [InlineData("at", -5, "outside the data region")]
    [InlineData("at", 1L << 40, "outside the data region")]
    [InlineData("stored", 1 << 30, "stored in")]
    [InlineData("codec", "lzma", "does not know")]
    [InlineData("xxh3", "zz", "malformed chunk checksum")]
    public void Lying_chunk_entries_are_refused_before_anything_is_allocated(string field, object value, string expected)
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m =>
        {
            JsonNode chunk = m["tensors"]![0]!["chunks"]![0]!;
            chunk[field] = value switch { int i => JsonValue.Create(i), long l => JsonValue.Create(l), _ => JsonValue.Create((string)value) };
        });

        Assert.Contains(expected, UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_pieces_of_a_file_are_refused()
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m => m["tensors"]![1]!["offset"] = m["tensors"]![0]!["offset"]!.GetValue<long>());

        Assert.Contains("overlap or leave a hole", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tensor_whose_shape_disagrees_with_its_size_is_refused()
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m => m["tensors"]![0]!["shape"] = new JsonArray(1000, 1000));

        Assert.Contains("needs", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_listed_twice_is_refused()
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m => m["files"]![1]!["path"] = m["files"]![0]!["path"]!.GetValue<string>());

        Assert.Contains("listed twice", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lying_file_checksum_fails_unpack_and_leaves_nothing()
    {
        ArchiveSurgery.RewriteManifest(_temp["a.wafer"], m => m["files"]![0]!["sha256"] = new string('0', 64));

        var error = Assert.IsType<WaferIntegrityException>(UnpackFails());
        Assert.Contains("config.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(32, "-byte manifest (limit")]
    [InlineData(12, "bytes of manifest JSON (limit")]
    public void A_huge_declared_manifest_length_is_refused_before_reading_it(int fromEnd, string expected)
    {
        // Trailer bytes 8..15 (stored length, 32 from the end) and 28..31 (JSON length, 12 from the end).
        byte[] bytes = File.ReadAllBytes(_temp["a.wafer"]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - fromEnd), uint.MaxValue);
        File.WriteAllBytes(_temp["a.wafer"], bytes);

        Assert.Contains(expected, UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_length_that_disagrees_with_the_frame_is_refused()
    {
        byte[] stored = ArchiveSurgery.StoredManifest(_temp["a.wafer"]);
        uint json = (uint)ArchiveSurgery.ManifestJson(_temp["a.wafer"]).Length;

        ArchiveSurgery.ReplaceStoredManifest(_temp["a.wafer"], stored, json + 1);

        Assert.Contains($"declares {json} bytes, the trailer {json + 1}", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_manifest_frame_under_a_matching_checksum_is_a_clear_error()
    {
        byte[] stored = ArchiveSurgery.StoredManifest(_temp["a.wafer"]);
        uint json = (uint)ArchiveSurgery.ManifestJson(_temp["a.wafer"]).Length;
        for (int i = stored.Length / 2; i < stored.Length; i++)
        {
            stored[i] ^= 0x5A;
        }

        ArchiveSurgery.ReplaceStoredManifest(_temp["a.wafer"], stored, json);

        var error = UnpackFails();
        Assert.Contains("a.wafer", error.Message, StringComparison.Ordinal);
        Assert.Contains("manifest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_manifest_that_is_not_a_zstd_frame_is_refused_under_version_2()
    {
        byte[] json = ArchiveSurgery.ManifestJson(_temp["a.wafer"]);

        ArchiveSurgery.ReplaceStoredManifest(_temp["a.wafer"], json, (uint)json.Length);

        Assert.Contains("not a zstd frame", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_1_archives_with_a_plain_manifest_still_unpack()
    {
        ArchiveSurgery.ToVersion1(_temp["a.wafer"]);
        byte[] bytes = File.ReadAllBytes(_temp["a.wafer"]);
        Assert.Equal(1, bytes[8]);
        Assert.Equal((byte)'{', bytes[(int)ArchiveSurgery.ManifestRange(_temp["a.wafer"]).Offset]);

        using (WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]))
        {
            archive.Unpack(_temp["restored"]);
        }

        foreach (string file in Directory.EnumerateFiles(_temp["model"], "*", SearchOption.AllDirectories))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(_temp["restored"], Path.GetRelativePath(_temp["model"], file))));
        }
    }

    [Fact]
    public void A_version_1_trailer_with_a_json_length_is_refused_as_reserved_bytes()
    {
        ArchiveSurgery.ToVersion1(_temp["a.wafer"]);
        byte[] bytes = File.ReadAllBytes(_temp["a.wafer"]);
        bytes[^12] = 1;
        File.WriteAllBytes(_temp["a.wafer"], bytes);

        Assert.Contains("reserved", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Unknown_container_versions_are_refused(ushort version)
    {
        byte[] bytes = File.ReadAllBytes(_temp["a.wafer"]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), version);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(bytes.Length - 16), version);
        File.WriteAllBytes(_temp["a.wafer"], bytes);

        Assert.Contains($"version {version} is not supported (this build reads versions 1 and 2)", UnpackFails().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Symlinks_in_the_input_are_refused_and_no_archive_is_left()
    {
        File.CreateSymbolicLink(_temp["model/link.json"], _temp["model/config.json"]);

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferPacker.Pack(_temp["model"], _temp["b.wafer"]));

        Assert.Contains("link.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_temp.Entries(), e => e.StartsWith("b.wafer", StringComparison.Ordinal));
    }

    [Fact]
    public void Unpack_with_overwrite_refuses_to_follow_a_symlinked_folder_out_of_the_output()
    {
        Directory.CreateDirectory(_temp["restored"]);
        Directory.CreateDirectory(_temp["elsewhere"]);
        Directory.CreateSymbolicLink(_temp["restored/nested"], _temp["elsewhere"]);
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        var error = Assert.ThrowsAny<WaferDataException>(() => archive.Unpack(_temp["restored"], new UnpackOptions { Overwrite = true }));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp["elsewhere"]));
    }

    [Fact]
    public void A_bad_safetensors_file_fails_pack_naming_it_and_leaves_nothing()
    {
        File.WriteAllBytes(_temp["model/broken.safetensors"], SafetensorsBuilder.FromHeader("""{"x":{"dtype":"F32","shape":[9],"data_offsets":[0,4]}}""", new byte[4]));

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferPacker.Pack(_temp["model"], _temp["b.wafer"]));

        Assert.Contains("broken.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_temp.Entries(), e => e.StartsWith("b.wafer", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cancelled_pack_leaves_nothing_under_any_name()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAfterFirstReport(cancel);

        Assert.ThrowsAny<OperationCanceledException>(() => WaferPacker.Pack(_temp["model"], _temp["b.wafer"], new PackOptions { ChunkSize = 4096 }, progress, cancel.Token));

        Assert.DoesNotContain(_temp.Entries(), e => e.StartsWith("b.wafer", StringComparison.Ordinal));
    }

    private static long FirstChunkOffset(WaferArchive archive, ArchiveTensor tensor) =>
        archive.Manifest.Tensors[archive.Tensors.ToList().IndexOf(tensor)].Chunks[0].At;

    private bool IsPadding(byte[] original, long offset)
    {
        File.WriteAllBytes(_temp["clean.wafer"], original);
        using WaferArchive archive = WaferArchive.Open(_temp["clean.wafer"]);
        (long manifestOffset, _) = ArchiveSurgery.ManifestRange(_temp["clean.wafer"]);
        if (offset < 16 || offset >= manifestOffset)
        {
            return false;
        }

        var chunks = archive.Manifest.Tensors.SelectMany(t => t.Chunks).Concat(archive.Manifest.Blobs.SelectMany(b => b.Chunks));
        return !chunks.Any(c => offset >= c.At && offset < c.At + c.Stored);
    }

    private sealed class CancelAfterFirstReport(CancellationTokenSource source) : IProgress<WaferProgress>
    {
        public void Report(WaferProgress value) => source.Cancel();
    }
}
