using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Wafer.Codecs;
using Wafer.Tests.Chain;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Archive;

/// <summary>F32 master weights coded against the BF16 weights rounded from them (companion tensors).</summary>
public sealed class CompanionTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _checkpoint;

    public CompanionTests() => _checkpoint = CheckpointSeries.Write(_temp["source"], 100);

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Master_weights_are_coded_against_their_bf16_rounding_and_restore_exactly()
    {
        PackResult packed = WaferPacker.Pack(_checkpoint, _temp["c.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["c.wafer"]);

        CodecUsage residual = Assert.Single(archive.GetCodecUsage(), u => u.Codec == "f32-bf16-residual");
        Assert.Equal(3 * 96 * 128 * 4, residual.OriginalBytes);
        Assert.InRange(residual.StoredBytes, residual.OriginalBytes / 2, (residual.OriginalBytes / 2) + 1024);
        Assert.All(archive.Manifest.Tensors.Where(t => t.File == 1), t => Assert.NotNull(t.Companion));

        ArchiveTensor master = archive.Tensors.First(t => t.File.Path == "master_weights.safetensors");
        byte[] decoded = new byte[master.Size];
        archive.ReadTensor(master, decoded);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_checkpoint, "master_weights.safetensors")).AsSpan((int)master.Offset, (int)master.Size).ToArray(), decoded);
        archive.Unpack(_temp["restored"]);
        FolderAssert.Identical(_checkpoint, _temp["restored"]);
        Assert.True(archive.Verify().IsIntact);
        Assert.True(packed.ArchiveBytes < WaferPacker.Pack(_checkpoint, _temp["zstd.wafer"], new PackOptions { Codec = CodecChoice.Zstd }).ArchiveBytes);
    }

    [Fact]
    public void Companions_work_with_chunks_smaller_than_the_tensors()
    {
        WaferPacker.Pack(_checkpoint, _temp["c.wafer"], new PackOptions { ChunkSize = 4096 });
        using WaferArchive archive = WaferArchive.Open(_temp["c.wafer"]);

        archive.Unpack(_temp["restored"]);

        FolderAssert.Identical(_checkpoint, _temp["restored"]);
        Assert.True(archive.Manifest.Tensors.Count(t => t.Companion is not null) == 3);
    }

    [Fact]
    public void Values_that_break_the_rounding_rule_become_exceptions_and_still_round_trip()
    {
        string master = Path.Combine(_checkpoint, "master_weights.safetensors");
        byte[] bytes = File.ReadAllBytes(master);
        long dataStart = 8 + BinaryPrimitives.ReadInt64LittleEndian(bytes);
        for (int i = 0; i < 100; i++)
        {
            // Flip the top half's lowest bit of every 97th value: no longer the BF16 weight's source.
            int at = (int)dataStart + (i * 97 * 4) + 2;
            bytes[at] ^= 1;
        }

        File.WriteAllBytes(master, bytes);
        WaferPacker.Pack(_checkpoint, _temp["c.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["c.wafer"]);

        archive.Unpack(_temp["restored"]);

        FolderAssert.Identical(_checkpoint, _temp["restored"]);
        Assert.Contains(archive.GetCodecUsage(), u => u.Codec == "f32-bf16-residual");
    }

    [Fact]
    public void Unrelated_f32_tensors_keep_their_standalone_codec_and_no_companion()
    {
        File.Delete(Path.Combine(_checkpoint, "model.safetensors"));
        WaferPacker.Pack(_checkpoint, _temp["c.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["c.wafer"]);

        Assert.DoesNotContain(archive.GetCodecUsage(), u => u.Codec == "f32-bf16-residual");
        Assert.All(archive.Manifest.Tensors, t => Assert.Null(t.Companion));
    }

    [Theory]
    [InlineData("self", "not another tensor")]
    [InlineData("out-of-range", "not another tensor")]
    [InlineData("chained", "companion has a companion")]
    public void A_lying_companion_is_refused(string lie, string expected)
    {
        WaferPacker.Pack(_checkpoint, _temp["c.wafer"]);
        ArchiveSurgery.RewriteManifest(_temp["c.wafer"], m =>
        {
            JsonArray tensors = m["tensors"]!.AsArray();
            JsonNode[] masters = [.. tensors.Where(t => t!["companion"] is not null).Select(t => t!)];
            masters[0]["companion"] = lie switch
            {
                "self" => tensors.IndexOf(masters[0]),
                "out-of-range" => 100000,
                _ => tensors.IndexOf(masters[1]),
            };
        });

        var error = Assert.ThrowsAny<WaferDataException>(() => WaferArchive.Open(_temp["c.wafer"]).Dispose());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_codec_without_a_companion_is_refused()
    {
        WaferPacker.Pack(_checkpoint, _temp["c.wafer"]);
        ArchiveSurgery.RewriteManifest(_temp["c.wafer"], m =>
        {
            foreach (JsonNode? tensor in m["tensors"]!.AsArray())
            {
                tensor!.AsObject().Remove("companion");
            }
        });

        Assert.Contains("only a patch may use", Assert.ThrowsAny<WaferDataException>(() => WaferArchive.Open(_temp["c.wafer"]).Dispose()).Message, StringComparison.Ordinal);
    }
}
