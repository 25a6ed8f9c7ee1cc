using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;

namespace Wafer.Archive;

/// <summary>
/// Opens an archive and checks everything the manifest declares before anyone acts on it: trailer and
/// preamble magic, version, manifest bounds and checksum, safe unique paths, chunk payloads inside the data
/// region, chunk sizes capped, and each file's tensors and blobs tiling it exactly.
/// </summary>
internal static class ArchiveReader
{
    public static ManifestDocument ReadManifest(MappedFile file)
    {
        string path = file.Path;
        long length = file.Length;
        if (length < ArchiveFormat.PreambleLength + ArchiveFormat.TrailerLength)
        {
            throw new WaferDataException($"{path}: not a Wafer archive: {length} bytes is shorter than the preamble and trailer.");
        }

        if (!file.Span(0, 8).SequenceEqual(ArchiveFormat.PreambleMagic))
        {
            throw new WaferDataException($"{path}: not a Wafer archive: the file does not start with the Wafer magic.");
        }

        ReadOnlySpan<byte> trailer = file.Span(length - ArchiveFormat.TrailerLength, ArchiveFormat.TrailerLength);
        if (!trailer[32..].SequenceEqual(ArchiveFormat.TrailerMagic))
        {
            throw new WaferDataException($"{path}: the archive is truncated or damaged: its last 8 bytes are not the trailer magic.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(trailer[24..]);
        ushort preambleVersion = BinaryPrimitives.ReadUInt16LittleEndian(file.Span(8, 2));
        if (version != preambleVersion || version is not (ArchiveFormat.PlainManifestVersion or ArchiveFormat.Version))
        {
            throw new WaferDataException($"{path}: archive format version {Math.Max(version, preambleVersion)} is not supported (this build reads versions {ArchiveFormat.PlainManifestVersion} and {ArchiveFormat.Version}).");
        }

        bool compressed = version == ArchiveFormat.Version;
        if (file.Span(10, 6).ContainsAnyExcept((byte)0) || trailer[26..(compressed ? 28 : 32)].ContainsAnyExcept((byte)0))
        {
            throw new WaferDataException($"{path}: reserved header or trailer bytes are set: the archive is damaged or from a newer writer.");
        }

        long manifestOffset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
        long manifestLength = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
        ulong manifestHash = BinaryPrimitives.ReadUInt64LittleEndian(trailer[16..]);
        long jsonLength = compressed ? BinaryPrimitives.ReadUInt32LittleEndian(trailer[28..]) : manifestLength;
        long manifestLimit = length - ArchiveFormat.TrailerLength;
        if (manifestLength <= 0 || manifestLength > ArchiveFormat.MaxManifestLength)
        {
            throw new WaferDataException($"{path}: the trailer declares a {manifestLength}-byte manifest (limit {ArchiveFormat.MaxManifestLength}).");
        }

        if (jsonLength <= 0 || jsonLength > ArchiveFormat.MaxManifestLength)
        {
            throw new WaferDataException($"{path}: the trailer declares {jsonLength} bytes of manifest JSON (limit {ArchiveFormat.MaxManifestLength}).");
        }

        if (manifestOffset < ArchiveFormat.PreambleLength || manifestOffset > manifestLimit - manifestLength)
        {
            throw new WaferDataException($"{path}: the trailer places the manifest at [{manifestOffset}, {manifestOffset + manifestLength}), outside the archive's {manifestLimit} bytes.");
        }

        ReadOnlySpan<byte> stored = file.Span(manifestOffset, (int)manifestLength);
        if (XxHash3.HashToUInt64(stored) != manifestHash)
        {
            throw new WaferIntegrityException($"{path}: the manifest's checksum does not match: the archive is damaged.");
        }

        ReadOnlySpan<byte> json = compressed ? ArchiveFormat.DecompressManifest(stored, (int)jsonLength, path) : stored;
        ManifestDocument? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ManifestDocument);
        }
        catch (JsonException e)
        {
            throw new WaferDataException($"{path}: the manifest is not valid JSON: {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new WaferDataException($"{path}: the manifest is empty.");
        }

        Validate(path, manifest, manifestOffset);
        return manifest;
    }

    private static void Validate(string path, ManifestDocument manifest, long dataEnd)
    {
        if (manifest.Wafer != ArchiveFormat.ManifestSchema)
        {
            throw Bad(path, $"manifest schema version {manifest.Wafer} is not supported");
        }

        if (manifest.Kind is not ("archive" or "patch"))
        {
            throw Bad(path, $"manifest kind '{manifest.Kind}' is not known");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (FileEntry file in manifest.Files)
        {
            if (file is null || file.Path is null || file.Sha256 is null)
            {
                throw Bad(path, "a file entry lacks its path or checksum");
            }

            if (SafeRelativePath.Problem(file.Path) is string problem)
            {
                throw Bad(path, $"file '{file.Path}' is unsafe to restore: {problem}");
            }

            if (!seen.Add(file.Path))
            {
                throw Bad(path, $"file '{file.Path}' is listed twice");
            }

            if (file.Size < 0 || !IsLowerHex(file.Sha256, 64))
            {
                throw Bad(path, $"file '{file.Path}' has a bad size or SHA-256");
            }
        }

        // A file may not also be used as a folder ("a" and "a/b"): restoring one would clobber the other.
        foreach (string filePath in seen)
        {
            for (int slash = filePath.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = filePath.IndexOf('/', slash + 1))
            {
                if (seen.Contains(filePath[..slash]))
                {
                    throw Bad(path, $"'{filePath[..slash]}' is both a file and a folder");
                }
            }
        }

        var pieces = new List<(long Offset, long Size, string What)>[manifest.Files.Count];
        for (int i = 0; i < pieces.Length; i++)
        {
            pieces[i] = [];
        }

        foreach (TensorEntry tensor in manifest.Tensors)
        {
            if (tensor is null || string.IsNullOrEmpty(tensor.Name) || tensor.Dtype is null || tensor.Shape is null)
            {
                throw Bad(path, "a tensor entry lacks its name, dtype or shape");
            }

            string what = $"tensor '{tensor.Name}'";
            CheckPiece(path, manifest, what, tensor.File, tensor.Offset, tensor.Size, tensor.Chunks, dataEnd, tensor.Companion is not null);
            CheckCompanion(path, manifest, tensor, what);
            if (DTypes.TryParse(tensor.Dtype, out DType dtype))
            {
                long bytes;
                try
                {
                    long elements = 1;
                    foreach (long dim in tensor.Shape)
                    {
                        elements = dim < 0 ? throw Bad(path, $"{what} has a negative dimension") : checked(elements * dim);
                    }

                    bytes = checked(elements * DTypes.Size(dtype));
                }
                catch (OverflowException)
                {
                    throw Bad(path, $"{what}: shape × dtype size overflows");
                }

                if (bytes != tensor.Size)
                {
                    throw Bad(path, $"{what}: shape [{string.Join(", ", tensor.Shape)}] of {tensor.Dtype} needs {bytes} bytes, the entry declares {tensor.Size}");
                }
            }

            pieces[tensor.File].Add((tensor.Offset, tensor.Size, what));
        }

        foreach (BlobEntry blob in manifest.Blobs)
        {
            if (blob is null)
            {
                throw Bad(path, "a blob entry is null");
            }

            string what = $"bytes at {blob.Offset}";
            CheckPiece(path, manifest, what, blob.File, blob.Offset, blob.Size, blob.Chunks, dataEnd, hasCompanion: false);
            pieces[blob.File].Add((blob.Offset, blob.Size, what));
        }

        for (int i = 0; i < pieces.Length; i++)
        {
            List<(long Offset, long Size, string What)> list = pieces[i];
            list.Sort(static (a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.Size.CompareTo(b.Size));
            long position = 0;
            foreach ((long offset, long size, string what) in list)
            {
                if (offset != position)
                {
                    throw Bad(path, $"file '{manifest.Files[i].Path}': {what} starts at {offset}, expected {position} (pieces overlap or leave a hole)");
                }

                position += size;
            }

            if (position != manifest.Files[i].Size)
            {
                throw Bad(path, $"file '{manifest.Files[i].Path}': its pieces cover {position} of {manifest.Files[i].Size} bytes");
            }
        }
    }

    /// <summary>A companion is another tensor of the same archive, with the same element count, that has no companion itself.</summary>
    private static void CheckCompanion(string path, ManifestDocument manifest, TensorEntry tensor, string what)
    {
        if (tensor.Companion is not int index)
        {
            return;
        }

        if ((uint)index >= (uint)manifest.Tensors.Count || ReferenceEquals(manifest.Tensors[index], tensor))
        {
            throw Bad(path, $"{what} names companion #{index}, which is not another tensor of this archive");
        }

        TensorEntry companion = manifest.Tensors[index];
        // In a patch the companion may itself be coded against the base; it never has a companion of its own.
        if (companion is null || companion.Companion is not null || (manifest.Kind == "archive" && companion.Base is not null))
        {
            throw Bad(path, $"{what}: its companion has a companion or base of its own");
        }

        if (!DTypes.TryParse(tensor.Dtype, out DType dtype) || !DTypes.TryParse(companion.Dtype, out DType companionDtype) ||
            tensor.Size / DTypes.Size(dtype) != companion.Size / DTypes.Size(companionDtype))
        {
            throw Bad(path, $"{what}: companion '{companion.Name}' does not have the same number of elements");
        }
    }

    private static void CheckPiece(string path, ManifestDocument manifest, string what, int file, long offset, long size, List<ChunkEntry>? chunks, long dataEnd, bool hasCompanion)
    {
        if ((uint)file >= (uint)manifest.Files.Count)
        {
            throw Bad(path, $"{what} refers to file #{file}, but there are {manifest.Files.Count}");
        }

        if (offset < 0 || size < 0 || offset > manifest.Files[file].Size - size)
        {
            throw Bad(path, $"{what} lies outside file '{manifest.Files[file].Path}'");
        }

        if (chunks is null)
        {
            throw Bad(path, $"{what} has no chunk table");
        }

        long total = 0;
        foreach (ChunkEntry chunk in chunks)
        {
            if (chunk is null || chunk.Codec is null || chunk.Xxh3 is null)
            {
                throw Bad(path, $"{what} has an incomplete chunk entry");
            }

            if (chunk.Size <= 0 || chunk.Size > ArchiveFormat.MaxChunkSize)
            {
                throw Bad(path, $"{what} has a chunk of {chunk.Size} bytes (allowed 1..{ArchiveFormat.MaxChunkSize})");
            }

            if (chunk.Stored < 0 || chunk.Stored > chunk.Size + CodecSelector.Slack)
            {
                throw Bad(path, $"{what} has a chunk stored in {chunk.Stored} bytes for {chunk.Size} decoded");
            }

            if (chunk.At < ArchiveFormat.PreambleLength || chunk.At > dataEnd - chunk.Stored)
            {
                throw Bad(path, $"{what} has a chunk at [{chunk.At}, {chunk.At + chunk.Stored}), outside the data region");
            }

            if (CodecRegistry.Find(chunk.Codec) is not ChunkCodec codec)
            {
                throw Bad(path, $"{what} uses codec '{chunk.Codec}', which this build does not know (known: {string.Join(", ", CodecRegistry.Names)})");
            }

            if (codec.NeedsReference && manifest.Kind != "patch" && !(hasCompanion && codec is F32Bf16ResidualCodec))
            {
                throw Bad(path, $"{what} uses delta codec '{chunk.Codec}', which only a patch may use");
            }

            if (!IsLowerHex(chunk.Xxh3, 16))
            {
                throw Bad(path, $"{what} has a malformed chunk checksum '{chunk.Xxh3}'");
            }

            total += chunk.Size;
        }

        if (total != size)
        {
            throw Bad(path, $"{what}: its chunks decode to {total} bytes, the entry declares {size}");
        }
    }

    /// <summary>Whether <paramref name="value"/> is exactly <paramref name="digits"/> lower-case hex digits (how every hash in a manifest is written).</summary>
    internal static bool IsLowerHex(string? value, int digits)
    {
        if (value is null || value.Length != digits)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    private static WaferDataException Bad(string path, string problem) => new($"{path}: bad manifest: {problem}.");
}
