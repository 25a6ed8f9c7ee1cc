using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// Splits a <c>torch.save</c> zip checkpoint: the one <c>&lt;prefix&gt;/data.pkl</c> is run through the inert
/// <see cref="PickleMachine"/>, and each storage it references becomes a tensor segment over the STORED zip
/// member <c>&lt;prefix&gt;/data/&lt;key&gt;</c>. Everything else (local headers, the pickle, <c>version</c>,
/// data descriptors, the central directory) stays verbatim.
/// </summary>
internal static class TorchZipCheckpoint
{
    /// <summary>The largest pickle read into memory.</summary>
    public const int MaxPickleLength = 64 << 20;

    private const string PickleName = "data.pkl";

    public static FileLayout Read(string path, SafeFileHandle file, long length, string format)
    {
        ZipDirectory directory = ZipDirectory.Read(path, file, length);
        var pickles = directory.Entries.Where(static e => e.Name.EndsWith('/' + PickleName, StringComparison.Ordinal)
            && e.Name.IndexOf('/', StringComparison.Ordinal) == e.Name.Length - PickleName.Length - 1).ToList();
        if (pickles.Count != 1)
        {
            throw new WaferDataException($"{path}: not a torch checkpoint: expected one '<name>/{PickleName}' member, found {pickles.Count}.");
        }

        ZipEntry pickle = pickles[0];
        if (!pickle.IsStoredPlain)
        {
            throw new WaferDataException($"{path}: torch pickle '{pickle.Name}' is compressed or encrypted (method {pickle.Method}).");
        }

        if (pickle.CompressedSize > MaxPickleLength)
        {
            throw new WaferDataException($"{path}: torch pickle '{pickle.Name}' of {pickle.CompressedSize} bytes exceeds the {MaxPickleLength}-byte limit.");
        }

        byte[] bytes = new byte[(int)pickle.CompressedSize];
        ZipDirectory.ReadExactly(path, file, bytes, pickle.DataOffset, $"member '{pickle.Name}'");
        var resolver = new TorchStorageResolver(path, legacy: false);
        object? root = PickleMachine.Run(path, pickle.Name, bytes, 0, bytes.Length, resolver.Load, out _);
        Dictionary<string, string> names = TorchTensorNamer.Name(root);

        string prefix = pickle.Name[..^PickleName.Length];
        var entries = directory.Entries.ToDictionary(static e => e.Name, StringComparer.Ordinal);
        var tensors = new List<LayoutSegment>(resolver.Storages.Count);
        foreach (TorchStorageRef storage in resolver.Storages)
        {
            string member = $"{prefix}data/{storage.Key}";
            if (!entries.TryGetValue(member, out ZipEntry? entry))
            {
                throw new WaferDataException($"{path}: storage '{storage.Key}' has no member '{member}'.");
            }

            if (entry.UncompressedSize != storage.ByteLength)
            {
                throw new WaferDataException($"{path}: member '{member}' holds {entry.UncompressedSize} bytes but storage '{storage.Key}' declares {storage.ElementCount} × {storage.Type.ElementSize}.");
            }

            // A compressed or encrypted member is not the tensor's bytes: it stays verbatim.
            if (entry.IsStoredPlain)
            {
                tensors.Add(TensorSegment(entry.DataOffset, storage, names));
            }
        }

        return TensorSegmentTiler.Tile(path, format, length, tensors);
    }

    /// <summary>The segment of <paramref name="storage"/>'s bytes at <paramref name="offset"/>, named after its first tensor.</summary>
    internal static LayoutSegment TensorSegment(long offset, TorchStorageRef storage, Dictionary<string, string> names)
    {
        TorchStorageType type = storage.Type;
        string dtypeName = type.DType == DType.Opaque ? type.Name : DTypes.Name(type.DType);
        string name = names.GetValueOrDefault(storage.Key) ?? $"storage/{storage.Key}";
        return new LayoutSegment(offset, storage.ByteLength, new TensorDescriptor(name, dtypeName, type.DType, [storage.ElementCount]));
    }
}
