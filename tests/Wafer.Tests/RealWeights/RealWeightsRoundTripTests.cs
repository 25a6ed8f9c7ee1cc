using Wafer.Tests.TestSupport;

namespace Wafer.Tests.RealWeights;

public sealed class RealWeightsRoundTripTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Folders =>
    [
        "bytelm-base", "bytelm-base-ckpt", "bytelm-ft-code", "bytelm-ft-doc", "optim-run", "optim-run-torch", "lora-gpt2",
    ];

    [RealDataTheory]
    [MemberData(nameof(Folders))]
    public void Real_folder_round_trips_byte_identical_and_smaller(string folder)
    {
        string source = RealData.PathOf(folder);
        Assert.True(Directory.Exists(source), $"{source} is missing from the shared data");

        PackResult packed = WaferPacker.Pack(source, _temp["a.wafer"]);
        using WaferArchive archive = WaferArchive.Open(_temp["a.wafer"]);
        archive.Unpack(_temp["restored"]);

        FolderAssert.Identical(source, _temp["restored"]);
        Assert.True(packed.ArchiveBytes < packed.OriginalBytes, $"{folder}: archive {packed.ArchiveBytes} is not smaller than {packed.OriginalBytes}");
        Assert.True(archive.Verify().IsIntact);
    }

    [RealDataFact]
    public void Real_safetensors_tensors_read_back_exactly()
    {
        string model = RealData.PathOf("bytelm-base/model.safetensors");
        WaferPacker.Pack(model, _temp["m.wafer"]);
        byte[] original = File.ReadAllBytes(model);
        using WaferArchive archive = WaferArchive.Open(_temp["m.wafer"]);

        Assert.Contains(archive.Tensors, t => t.Name.StartsWith("model.layers.0.", StringComparison.Ordinal) && t.DType == DType.BF16);
        foreach (ArchiveTensor tensor in archive.Tensors)
        {
            byte[] decoded = new byte[tensor.Size];
            archive.ReadTensor(tensor, decoded);
            Assert.True(original.AsSpan((int)tensor.Offset, (int)tensor.Size).SequenceEqual(decoded), tensor.Name);
        }
    }
}
