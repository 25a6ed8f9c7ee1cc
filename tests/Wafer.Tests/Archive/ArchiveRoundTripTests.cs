using Wafer.Codecs;
using Wafer.Formats.Safetensors;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Archive;

public sealed class ArchiveRoundTripTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public ArchiveRoundTripTests() => ModelFolderFixture.Write(_temp["model"]);

    public void Dispose() => _temp.Dispose();

    private PackResult Pack(string name, CodecChoice codec = CodecChoice.Auto, int threads = 0, int chunk = ModelFolderFixture.SmallChunk) =>
        WaferPacker.Pack(_temp["model"], _temp[name], new PackOptions { Codec = codec, Threads = threads, ChunkSize = chunk });

    [Theory]
    [InlineData(CodecChoice.Auto)]
    [InlineData(CodecChoice.Zstd)]
    [InlineData(CodecChoice.Raw)]
    public void Unpack_restores_every_file_byte_identical(CodecChoice codec)
    {
        Pack("a.wafer", codec);
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        archive.Unpack(_temp["restored"]);

        FolderAssert.Identical(_temp["model"], _temp["restored"]);
        Assert.DoesNotContain(_temp.Entries(), e => e.Contains("wafer-partial", StringComparison.Ordinal));
    }

    [Fact]
    public void Archive_bytes_do_not_depend_on_the_thread_count()
    {
        Pack("one.wafer", threads: 1);
        Pack("four.wafer", threads: 4);

        Assert.Equal(File.ReadAllBytes(_temp["one.wafer"]), File.ReadAllBytes(_temp["four.wafer"]));
    }

    [Fact]
    public void Manifest_lists_files_formats_and_tensors()
    {
        PackResult result = Pack("a.wafer");
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        Assert.Equal(8, result.FileCount);
        Assert.Equal(
            ["config.json", "empty.txt", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "nested/copy.safetensors", "nested/deeper/blob.bin", "nested/tokenizer.json"],
            archive.Files.Select(f => f.Path));
        Assert.Equal("safetensors", archive.Files.Single(f => f.Path == "nested/copy.safetensors").Format);
        Assert.Equal("blob", archive.Files.Single(f => f.Path == "config.json").Format);
        ArchiveTensor scalar = Assert.Single(archive.FindTensors("scalar"));
        Assert.Empty(scalar.Shape);
        Assert.Equal(4, scalar.Size);
        Assert.Equal("Q4_K", Assert.Single(archive.FindTensors("opaque.quant")).DTypeName);
        Assert.Equal(2, archive.FindTensors("chunk.exact").Count);
    }

    [Fact]
    public void Identical_chunks_are_stored_once()
    {
        PackResult result = Pack("a.wafer", CodecChoice.Raw);

        // Raw payloads: the archive is the distinct bytes plus alignment padding, manifest and fixed parts.
        long copy = new FileInfo(_temp["model/nested/copy.safetensors"]).Length;
        (_, long manifest) = ArchiveSurgery.ManifestRange(_temp["a.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);
        long storedChunks = archive.GetCodecUsage().Sum(u => u.Chunks) - result.DeduplicatedChunks;
        long overhead = manifest + 56 + (64 * storedChunks);
        long copyChunks = 1 + archive.Tensors.Where(t => t.File.Path == "nested/copy.safetensors").Sum(t => (t.Size + ModelFolderFixture.SmallChunk - 1) / ModelFolderFixture.SmallChunk);
        Assert.Equal(copyChunks, result.DeduplicatedChunks);
        Assert.True(result.ArchiveBytes <= result.OriginalBytes - copy + overhead, "the copied shard was stored twice");
    }

    [Fact]
    public void ReadTensor_returns_exactly_the_source_bytes()
    {
        Pack("a.wafer");
        byte[] shard = File.ReadAllBytes(_temp["model/model-00002-of-00002.safetensors"]);
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        foreach (ArchiveTensor tensor in archive.Tensors.Where(t => t.File.Path == "model-00002-of-00002.safetensors"))
        {
            byte[] decoded = new byte[tensor.Size];
            archive.ReadTensor(tensor, decoded);
            Assert.Equal(shard.AsSpan((int)tensor.Offset, (int)tensor.Size).ToArray(), decoded);

            using var stream = new MemoryStream();
            archive.CopyTensorTo(tensor, stream);
            Assert.Equal(decoded, stream.ToArray());
        }
    }

    [Fact]
    public void Extract_to_safetensors_writes_a_valid_file_with_the_same_tensor_bytes()
    {
        Pack("a.wafer");
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);
        ArchiveTensor[] chosen = [.. archive.Tensors.Where(t => t.File.Path.StartsWith("model-00001", StringComparison.Ordinal) && t.DType != DType.Opaque)];

        archive.WriteSafetensors(chosen, _temp["out.safetensors"]);

        byte[] file = File.ReadAllBytes(_temp["out.safetensors"]);
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(_temp["out.safetensors"]);
        SafetensorsHeader header = SafetensorsHeader.Read("out.safetensors", handle, file.Length);
        Assert.Equal(chosen.Length, header.Tensors.Count);
        foreach (SafetensorsEntry entry in header.Tensors)
        {
            ArchiveTensor source = chosen.Single(t => t.Name == entry.Name);
            byte[] expected = new byte[source.Size];
            archive.ReadTensor(source, expected);
            Assert.Equal(expected, file.AsSpan((int)(header.DataStart + entry.Begin), (int)(entry.End - entry.Begin)).ToArray());
            Assert.Equal(source.Shape, entry.Descriptor.Shape);
        }
    }

    [Fact]
    public void Extract_refuses_a_dtype_safetensors_cannot_hold()
    {
        Pack("a.wafer");
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        Assert.Throws<ArgumentException>(() => archive.WriteSafetensors([.. archive.FindTensors("opaque.quant")], _temp["q.safetensors"]));
        Assert.False(File.Exists(_temp["q.safetensors"]));
    }

    [Fact]
    public void Verify_passes_on_an_intact_archive()
    {
        Pack("a.wafer");
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        VerifyReport report = archive.Verify();

        Assert.True(report.IsIntact, string.Join("\n", report.Problems));
        Assert.Equal(archive.OriginalBytes, report.CheckedBytes);
    }

    [Fact]
    public void Unpack_into_a_non_empty_folder_needs_overwrite()
    {
        Pack("a.wafer");
        Directory.CreateDirectory(_temp["restored"]);
        File.WriteAllText(_temp["restored/config.json"], "old");
        File.WriteAllText(_temp["restored/keep.txt"], "mine");
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);

        Assert.Throws<IOException>(() => archive.Unpack(_temp["restored"]));
        Assert.Equal("old", File.ReadAllText(_temp["restored/config.json"]));

        archive.Unpack(_temp["restored"], new UnpackOptions { Overwrite = true });
        Assert.Equal(File.ReadAllText(_temp["model/config.json"]), File.ReadAllText(_temp["restored/config.json"]));
        Assert.Equal("mine", File.ReadAllText(_temp["restored/keep.txt"]));
    }

    [Fact]
    public void Packing_a_single_file_works()
    {
        WaferPacker.Pack(_temp["model/model-00002-of-00002.safetensors"], _temp["one.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["one.wafer"]);

        Assert.Equal("model-00002-of-00002.safetensors", Assert.Single(archive.Files).Path);
        archive.Unpack(_temp["restored"]);
        Assert.Equal(File.ReadAllBytes(_temp["model/model-00002-of-00002.safetensors"]), File.ReadAllBytes(_temp["restored/model-00002-of-00002.safetensors"]));
    }

    [Fact]
    public void Packing_an_empty_folder_gives_an_archive_that_restores_nothing()
    {
        Directory.CreateDirectory(_temp["nothing"]);
        WaferPacker.Pack(_temp["nothing"], _temp["empty.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["empty.wafer"]);

        archive.Unpack(_temp["restored"]);

        Assert.Empty(archive.Files);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp["restored"]));
    }

    [Fact]
    public void Existing_archive_is_not_replaced_without_overwrite()
    {
        File.WriteAllText(_temp["a.wafer"], "precious");

        Assert.Throws<IOException>(() => Pack("a.wafer"));
        Assert.Equal("precious", File.ReadAllText(_temp["a.wafer"]));
    }
}
