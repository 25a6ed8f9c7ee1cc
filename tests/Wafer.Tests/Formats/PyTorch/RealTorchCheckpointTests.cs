using System.IO.Hashing;
using Wafer.Formats.PyTorch;
using Wafer.Formats.Safetensors;
using Wafer.Layout;
using Microsoft.Win32.SafeHandles;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Formats.PyTorch;

/// <summary>The Hugging Face Trainer checkpoints in shared/data/optim-run-torch, cross-checked against optim-run's safetensors.</summary>
public sealed class RealTorchCheckpointTests
{
    private const string TorchFolder = "optim-run-torch/checkpoint-40";
    private const string SafetensorsFolder = "optim-run/checkpoint-40";

    [RealDataFact(TorchFolder)]
    public void Every_file_is_detected_as_expected_and_tiles()
    {
        string folder = RealData.Find(TorchFolder)!;
        var expected = new Dictionary<string, string>
        {
            ["pytorch_model.bin"] = "pytorch",
            ["optimizer.pt"] = "pytorch",
            ["scheduler.pt"] = "pytorch",
            ["rng_state.pth"] = "pytorch",
            ["master_weights_legacy.pt"] = "pytorch",
            ["training_args.bin"] = "blob", // pickles a non-torch class: refused, kept opaque
            ["trainer_state.json"] = "blob",
        };

        foreach (string path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            FileLayout layout = LayoutTestFile.DetectFile(path);
            LayoutTestFile.AssertTiles(layout, File.ReadAllBytes(path));
            if (expected.TryGetValue(Path.GetFileName(path), out string? format))
            {
                Assert.True(format == layout.Format, $"{Path.GetFileName(path)}: expected {format}, got {layout.Format}");
            }
        }
    }

    [RealDataFact(TorchFolder)]
    public void Training_args_global_is_refused_by_name()
    {
        string path = Path.Combine(RealData.Find(TorchFolder)!, "training_args.bin");

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.ReadFile(new PyTorchLayoutReader(), path));

        Assert.Contains("__main__.TrainingArguments", error.Message, StringComparison.Ordinal);
    }

    [RealDataFact(TorchFolder)]
    public void Model_bin_storages_are_the_safetensors_model_tensors_byte_for_byte()
    {
        AssertMatchesSafetensors("pytorch_model.bin", "model.safetensors", DType.BF16);
    }

    [RealDataFact(TorchFolder)]
    public void Legacy_master_weights_are_the_safetensors_master_weights_byte_for_byte()
    {
        AssertMatchesSafetensors("master_weights_legacy.pt", "master_weights.safetensors", DType.F32);
    }

    [RealDataFact(TorchFolder)]
    public void Optimizer_state_holds_f32_moments_for_every_parameter()
    {
        string path = Path.Combine(RealData.Find(TorchFolder)!, "optimizer.pt");
        FileLayout layout = LayoutTestFile.ReadFile(new PyTorchLayoutReader(), path);
        TensorDescriptor[] tensors = [.. layout.Segments.Where(static s => s.Tensor is not null).Select(static s => s.Tensor!)];
        byte[] file = File.ReadAllBytes(path);

        Assert.All(tensors, static t => Assert.Equal(DType.F32, t.DType));
        Assert.Equal(39, tensors.Count(static t => t.Name.EndsWith(".exp_avg", StringComparison.Ordinal)));
        Assert.Equal(39, tensors.Count(static t => t.Name.EndsWith(".exp_avg_sq", StringComparison.Ordinal)));
        Assert.Contains(tensors, static t => t.Name == "state.0.exp_avg");
        Assert.Contains(tensors, static t => t.Name == "state.38.exp_avg_sq");

        // The moments are the same bytes optim-run stores as optimizer.safetensors (names differ there).
        string? folder = RealData.Find(SafetensorsFolder);
        if (folder is not null)
        {
            var moments = new HashSet<string>(SafetensorsTensors(Path.Combine(folder, "optimizer.safetensors")).Values.Select(static b => Convert.ToHexString(XxHash128.Hash(b))));
            foreach (LayoutSegment segment in layout.Segments.Where(static s => s.Tensor is { Name: var n } && n.Contains(".exp_avg", StringComparison.Ordinal)))
            {
                Assert.Contains(Convert.ToHexString(XxHash128.Hash(file.AsSpan((int)segment.Offset, (int)segment.Length))), moments);
            }
        }
    }

    private static void AssertMatchesSafetensors(string torchName, string safetensorsName, DType dtype)
    {
        string torchPath = Path.Combine(RealData.Find(TorchFolder)!, torchName);
        FileLayout layout = LayoutTestFile.ReadFile(new PyTorchLayoutReader(), torchPath);
        byte[] file = File.ReadAllBytes(torchPath);
        LayoutSegment[] tensors = [.. layout.Segments.Where(static s => s.Tensor is not null)];

        Assert.NotEmpty(tensors);
        Assert.All(tensors, s => Assert.Equal(dtype, s.Tensor!.DType));
        string? folder = RealData.Find(SafetensorsFolder);
        if (folder is null)
        {
            return; // the torch files alone were checked above
        }

        Dictionary<string, byte[]> expected = SafetensorsTensors(Path.Combine(folder, safetensorsName));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), tensors.Select(static s => s.Tensor!.Name).Order(StringComparer.Ordinal));
        foreach (LayoutSegment segment in tensors)
        {
            Assert.Equal(expected[segment.Tensor!.Name], file.AsSpan((int)segment.Offset, (int)segment.Length).ToArray());
        }
    }

    private static Dictionary<string, byte[]> SafetensorsTensors(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        SafetensorsHeader header = SafetensorsHeader.Read(path, handle, RandomAccess.GetLength(handle));
        byte[] file = File.ReadAllBytes(path);
        return header.Tensors.ToDictionary(
            static e => e.Name,
            e => file.AsSpan((int)(header.DataStart + e.Begin), (int)(e.End - e.Begin)).ToArray());
    }
}
