using System.Buffers.Binary;
using System.Numerics;
using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// Splits a legacy (pre-zip, <c>_use_new_zipfile_serialization=False</c>) torch checkpoint: five pickles
/// (magic number, protocol version, sys info, the object, the list of storage keys), then for each key in that
/// list an 8-byte little-endian element count followed by the storage's raw bytes. The pickles are read from a
/// prefix of the file that grows only as far as they need (at most <see cref="TorchZipCheckpoint.MaxPickleLength"/>).
/// </summary>
internal static class TorchLegacyCheckpoint
{
    private const int InitialPrefixLength = 1 << 20;
    private const long ProtocolVersion = 1001;

    private static readonly BigInteger s_magic = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    public static FileLayout Read(string path, SafeFileHandle file, long length, string format)
    {
        long limit = Math.Min(length, TorchZipCheckpoint.MaxPickleLength);
        int prefixLength = (int)Math.Min(limit, InitialPrefixLength);
        while (true)
        {
            byte[] prefix = new byte[prefixLength];
            ZipDirectory.ReadExactly(path, file, prefix, 0, "legacy torch pickles");
            try
            {
                return Parse(path, file, length, format, prefix);
            }
            catch (PickleTruncatedException) when (prefixLength < limit)
            {
                // The pickles run past the prefix read so far: read a larger one and start again.
                prefixLength = (int)Math.Min(limit, (long)prefixLength * 4);
            }
        }
    }

    private static FileLayout Parse(string path, SafeFileHandle file, long length, string format, byte[] prefix)
    {
        object? NoPersistentIds(object? id) => throw new WaferDataException($"{path}: unexpected persistent id in a legacy torch header pickle.");

        object? magic = PickleMachine.Run(path, "magic number", prefix, 0, prefix.Length, NoPersistentIds, out int position);
        if (magic is not BigInteger number || number != s_magic)
        {
            throw new WaferDataException($"{path}: not a legacy torch checkpoint: the first pickle is not torch's magic number.");
        }

        object? version = PickleMachine.Run(path, "protocol version", prefix, position, prefix.Length, NoPersistentIds, out position);
        if (version is not ProtocolVersion)
        {
            throw new WaferDataException($"{path}: legacy torch protocol version {version} is not {ProtocolVersion}.");
        }

        object? systemInfo = PickleMachine.Run(path, "sys info", prefix, position, prefix.Length, NoPersistentIds, out position);
        if (!IsLittleEndian(systemInfo))
        {
            throw new WaferDataException($"{path}: legacy torch checkpoint was not written on a little-endian machine.");
        }

        var resolver = new TorchStorageResolver(path, legacy: true);
        object? root = PickleMachine.Run(path, "object", prefix, position, prefix.Length, resolver.Load, out position);
        object? keys = PickleMachine.Run(path, "storage keys", prefix, position, prefix.Length, NoPersistentIds, out position);
        if (keys is not List<object?> keyList)
        {
            throw new WaferDataException($"{path}: legacy torch storage key list is not a list.");
        }

        Dictionary<string, string> names = TorchTensorNamer.Name(root);
        var tensors = new List<LayoutSegment>(keyList.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long offset = position;
        Span<byte> countBytes = stackalloc byte[8];
        foreach (object? item in keyList)
        {
            if (item is not string key || resolver.Find(key) is not { } storage || !seen.Add(key))
            {
                throw new WaferDataException($"{path}: legacy torch storage key list names a storage the object does not reference, or one twice.");
            }

            if (offset > length - 8)
            {
                throw new WaferDataException($"{path}: legacy torch storage '{key}' header at {offset} runs past the end of the {length}-byte file.");
            }

            ZipDirectory.ReadExactly(path, file, countBytes, offset, $"storage '{key}' element count");
            long count = BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            if (count != storage.ElementCount)
            {
                throw new WaferDataException($"{path}: legacy torch storage '{key}' at {offset} holds {count} elements but the pickle declares {storage.ElementCount}.");
            }

            offset += 8;
            if (storage.ByteLength > length - offset)
            {
                throw new WaferDataException($"{path}: legacy torch storage '{key}' of {storage.ByteLength} bytes at {offset} runs past the end of the {length}-byte file.");
            }

            tensors.Add(TorchZipCheckpoint.TensorSegment(offset, storage, names));
            offset += storage.ByteLength;
        }

        return TensorSegmentTiler.Tile(path, format, length, tensors);
    }

    private static bool IsLittleEndian(object? systemInfo) =>
        systemInfo is PickleDict dict && dict.Items.Any(static p => p.Key is "little_endian" && p.Value is true);
}
