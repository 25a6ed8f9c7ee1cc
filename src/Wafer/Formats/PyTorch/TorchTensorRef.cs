namespace Wafer.Formats.PyTorch;

/// <summary>A tensor view rebuilt inertly from <c>_rebuild_tensor_v2(storage, offset, size, stride, ...)</c>.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, long[] Size);
