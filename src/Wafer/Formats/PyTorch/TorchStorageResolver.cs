namespace Wafer.Formats.PyTorch;

/// <summary>
/// The persistent-load hook for torch pickles: accepts only storage ids <c>('storage', type, key, location,
/// numel)</c> (the legacy format adds a sixth element, view metadata, which must be None) and returns one
/// <see cref="TorchStorageRef"/> per key, in the order the pickle first names them.
/// </summary>
internal sealed class TorchStorageResolver(string path, bool legacy)
{
    /// <summary>Longest storage key or location accepted; torch writes short decimal keys and device names.</summary>
    public const int MaxKeyLength = 256;

    private readonly Dictionary<string, TorchStorageRef> _byKey = new(StringComparer.Ordinal);
    private readonly List<TorchStorageRef> _inOrder = [];

    /// <summary>The storages, in the order the pickle first referenced them.</summary>
    public IReadOnlyList<TorchStorageRef> Storages => _inOrder;

    /// <summary>The storage with key <paramref name="key"/>, or null when the pickle never named it.</summary>
    public TorchStorageRef? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Resolves one persistent id.</summary>
    public object? Load(object? id)
    {
        int expected = legacy ? 6 : 5;
        if (id is not object?[] tuple || tuple.Length != expected || tuple[0] is not "storage"
            || tuple[1] is not PickleGlobal { Kind: PickleGlobalKind.StorageType, Storage: { } type }
            || tuple[2] is not string key || tuple[3] is not string location
            || tuple[4] is not long count || count < 0 || (legacy && tuple[5] is not null)
            || key.Length > MaxKeyLength || location.Length > MaxKeyLength)
        {
            throw new WaferDataException($"{path}: unsupported persistent id in torch pickle: expected ('storage', storage type, key, location, element count{(legacy ? ", None" : string.Empty)}) with key and location of at most {MaxKeyLength} characters.");
        }

        var storage = new TorchStorageRef(key, type, location, count);
        try
        {
            _ = storage.ByteLength;
        }
        catch (OverflowException)
        {
            throw new WaferDataException($"{path}: storage '{key}' declares {count} elements of {type.Name}, which overflows 64 bits.");
        }

        if (_byKey.TryGetValue(key, out TorchStorageRef? known))
        {
            // torch refuses to save one storage under two types; a file that does is not one torch wrote.
            return known.Type == type && known.ElementCount == count
                ? known
                : throw new WaferDataException($"{path}: storage '{key}' is declared twice with different types or sizes.");
        }

        _byKey.Add(key, storage);
        _inOrder.Add(storage);
        return storage;
    }
}
