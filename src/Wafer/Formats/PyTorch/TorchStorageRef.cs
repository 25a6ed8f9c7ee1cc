namespace Wafer.Formats.PyTorch;

/// <summary>
/// A storage named by a persistent id <c>('storage', type, key, location, numel)</c>: the bytes live in zip
/// member <c>&lt;prefix&gt;/data/&lt;key&gt;</c> (or, in the legacy format, after the pickles).
/// </summary>
internal sealed record TorchStorageRef(string Key, TorchStorageType Type, string Location, long ElementCount)
{
    /// <summary>Bytes the storage holds; checked so that a lying element count cannot overflow.</summary>
    public long ByteLength => checked(ElementCount * Type.ElementSize);
}
