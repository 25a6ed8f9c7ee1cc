using System.Text;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Delta;

/// <summary>
/// A base model folder and a target made from it with every kind of change: modified, added, removed, renamed,
/// moved-between-shards and reshaped (grown vocabulary) tensors, F32 and BF16, a tensor larger than one chunk,
/// and changed, added, removed and renamed non-tensor files.
/// </summary>
internal sealed class PatchFixture : IDisposable
{
    public const int ChunkSize = 4096;

    private readonly TempFolder _folder = new();

    public PatchFixture()
    {
        var random = new Random(1234);
        byte[] embed = TestModel.Bf16(random, 64 * 32, 0.02);
        byte[] q = TestModel.Bf16(random, 32 * 32, 0.03);
        byte[] k = TestModel.Bf16(random, 32 * 32, 0.03);
        byte[] big = TestModel.Bf16(random, (ChunkSize / 2 * 3) + 1, 0.02);
        byte[] norm = TestModel.Bf16(random, 32, 1);
        byte[] master = TestModel.F32(random, 32 * 16, 0.05);
        byte[] dropped = TestModel.Bf16(random, 100, 0.02);
        byte[] moved = TestModel.Bf16(random, 48, 0.02);
        byte[] renamed = TestModel.Bf16(random, 40, 0.02);
        TestModel.WriteSafetensors(Path.Combine(Base, "model-1.safetensors"),
        [
            new("embed.weight", "BF16", [64, 32], embed),
            new("layers.0.q.weight", "BF16", [32, 32], q),
            new("layers.0.k.weight", "BF16", [32, 32], k),
            new("layers.0.big.weight", "BF16", [big.Length / 2], big),
            new("dropped.weight", "BF16", [100], dropped),
            new("moved.weight", "BF16", [48], moved),
        ]);
        TestModel.WriteSafetensors(Path.Combine(Base, "model-2.safetensors"),
        [
            new("norm.weight", "BF16", [32], norm),
            new("master.weight", "F32", [32, 16], master),
            new("old_name.weight", "BF16", [40], renamed),
        ]);
        File.WriteAllText(Path.Combine(Base, "config.json"), "{\"hidden\": 32, \"vocab\": 64, \"name\": \"base\"}");
        File.WriteAllText(Path.Combine(Base, "tokenizer.json"), string.Concat(Enumerable.Range(0, 400).Select(i => $"\"tok{i}\": {i},\n")));
        File.WriteAllText(Path.Combine(Base, "removed.txt"), "only in the base");
        File.WriteAllBytes(Path.Combine(Base, "nested", "old.bin"), [1, 2, 3, 4, 5, 6, 7, 8]);
        File.WriteAllBytes(Path.Combine(Base, "empty.txt"), []);

        byte[] grown = new byte[72 * 32 * 2];
        TestModel.FineTuneBf16(random, embed, 0.001).CopyTo(grown, 0);
        TestModel.Bf16(random, 8 * 32, 0.02).CopyTo(grown, embed.Length);
        TestModel.WriteSafetensors(Path.Combine(Target, "model-1.safetensors"),
        [
            new("embed.weight", "BF16", [72, 32], grown),
            new("layers.0.q.weight", "BF16", [32, 32], TestModel.FineTuneBf16(random, q, 0.002)),
            new("layers.0.k.weight", "BF16", [32, 32], k),
            new("layers.0.big.weight", "BF16", [big.Length / 2], TestModel.FineTuneBf16(random, big, 0.002)),
            new("added.weight", "BF16", [16], TestModel.Bf16(random, 16, 0.02)),
        ]);
        TestModel.WriteSafetensors(Path.Combine(Target, "model-2.safetensors"),
        [
            new("norm.weight", "BF16", [32], norm),
            new("master.weight", "F32", [32, 16], TestModel.FineTuneF32(random, master, 0.0001)),
            new("new_name.weight", "BF16", [40], renamed),
            new("moved.weight", "BF16", [48], moved),
        ]);
        File.WriteAllText(Path.Combine(Target, "config.json"), "{\"hidden\": 32, \"vocab\": 72, \"name\": \"fine-tune\"}");
        File.WriteAllText(Path.Combine(Target, "tokenizer.json"), string.Concat(Enumerable.Range(0, 408).Select(i => $"\"tok{i}\": {i},\n")));
        File.WriteAllText(Path.Combine(Target, "added.md"), "only in the target");
        File.WriteAllBytes(Path.Combine(Target, "nested", "new.bin"), [1, 2, 3, 4, 5, 6, 7, 8]);
        File.WriteAllBytes(Path.Combine(Target, "empty.txt"), []);
    }

    public string Base => Folder("base");

    public string Target => Folder("target");

    public string this[string relative] => _folder[relative];

    public void Dispose() => _folder.Dispose();

    private string Folder(string name)
    {
        string path = _folder[name];
        Directory.CreateDirectory(Path.Combine(path, "nested"));
        return path;
    }

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
