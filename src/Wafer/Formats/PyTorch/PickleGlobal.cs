namespace Wafer.Formats.PyTorch;

/// <summary>A global named by a pickle that is on the allow-list; <see cref="Storage"/> is set for storage classes.</summary>
internal sealed record PickleGlobal(string Module, string Name, PickleGlobalKind Kind, TorchStorageType? Storage = null)
{
    public override string ToString() => $"{Module}.{Name}";
}
