namespace Wafer.Formats.PyTorch;

/// <summary>A torch storage class: its name (<c>BFloat16Storage</c>), the Wafer element type and bytes per element.</summary>
internal sealed record TorchStorageType(string Name, DType DType, int ElementSize);
