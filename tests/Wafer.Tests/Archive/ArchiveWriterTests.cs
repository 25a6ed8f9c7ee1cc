using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;

namespace Wafer.Tests.Archive;

public sealed class ArchiveWriterTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N"));

    public ArchiveWriterTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Flushing_behind_the_writer_after_every_chunk_changes_no_byte_of_the_archive()
    {
        // Sizes around the stream's 64 KiB buffer and the 64-byte alignment, so flushes fall inside and between them.
        int[] sizes = [1, 63, 64, 65, 65_535, 65_536, 65_537, 200_000, 3, 131_072];
        string everyChunk = Write("every-chunk.wafer", sizes, flushStep: 1);
        string rarely = Write("default.wafer", sizes, flushStep: long.MaxValue);

        Assert.Equal(File.ReadAllBytes(rarely), File.ReadAllBytes(everyChunk));
        using MappedFile archive = MappedFile.Open(everyChunk);
        Assert.Equal(sizes.Length, ArchiveReader.ReadManifest(archive).Blobs.Single().Chunks.Count);
    }

    [Fact]
    public void A_writer_abandoned_while_a_flush_runs_closes_its_file()
    {
        string path = Path.Combine(_directory, "abandoned.wafer");
        using (var writer = new ArchiveWriter(path, flushStep: 1))
        {
            for (int i = 0; i < 8; i++)
            {
                writer.Add(i, new byte[100_000], RawCodec.Instance, 100_000, DType.Opaque, (ulong)i, (_, _) => false);
            }
        }

        // Only a closed file can be opened for exclusive writing.
        using var reopened = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Assert.True(reopened.Length > 800_000);
    }

    private string Write(string name, int[] sizes, long flushStep)
    {
        string path = Path.Combine(_directory, name);
        var blob = new BlobEntry { File = 0, Offset = 0, Size = sizes.Sum() };
        var manifest = new ManifestDocument
        {
            Wafer = 1,
            Files = [new FileEntry { Path = "blob.bin", Size = blob.Size, Format = "blob", Sha256 = new string('0', 64) }],
            Blobs = [blob],
        };
        var random = new Random(5);
        using var writer = new ArchiveWriter(path, flushStep);
        for (int i = 0; i < sizes.Length; i++)
        {
            byte[] payload = new byte[sizes[i]];
            random.NextBytes(payload);
            blob.Chunks.Add(writer.Add(i, payload, RawCodec.Instance, payload.Length, DType.Opaque, (ulong)i, (_, _) => false));
        }

        writer.Finish(manifest);
        return path;
    }
}
