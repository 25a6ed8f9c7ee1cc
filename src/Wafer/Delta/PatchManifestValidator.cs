using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Codecs;

namespace Wafer.Delta;

/// <summary>
/// Checks the patch-only parts of a manifest that <see cref="ArchiveReader"/> has already validated as an
/// archive: base lists present and well-formed, every index in range, every chunk that uses base bytes
/// lying inside the base range it names.
/// </summary>
internal static class PatchManifestValidator
{
    public static void Validate(string path, ManifestDocument manifest)
    {
        if (manifest.Kind != "patch")
        {
            throw Bad(path, $"it is a Wafer {manifest.Kind}, not a patch (made by 'wafer diff')", prefix: false);
        }

        if (manifest.BaseFiles is null || manifest.BaseTensors is null || manifest.BaseBlobs is null)
        {
            throw Bad(path, "the base file, tensor or blob list is missing");
        }

        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (BaseFileEntry file in manifest.BaseFiles)
        {
            if (file is null || file.Path is null || file.Size < 0 || !ArchiveReader.IsLowerHex(file.Sha256, 64) || !paths.Add(file.Path))
            {
                throw Bad(path, $"base file entry '{file?.Path}' is malformed or repeated");
            }

            // What apply checks the base by: anything but the exact form would only ever fail that check, later and less clearly.
            if (!ArchiveReader.IsLowerHex(file.Xxh128, 32))
            {
                throw Bad(path, $"base file entry '{file.Path}' has a malformed xxh128: it must be the base file's XXH3-128 as 32 lower-case hex digits");
            }
        }

        foreach (BaseTensorEntry tensor in manifest.BaseTensors)
        {
            if (tensor is null || tensor.Name is null || tensor.Dtype is null || tensor.Shape is null || !ArchiveReader.IsLowerHex(tensor.Xxh128, 32))
            {
                throw Bad(path, "a base tensor entry is incomplete");
            }

            CheckRange(path, manifest, tensor.File, tensor.Offset, tensor.Size, $"base tensor '{tensor.Name}'");
        }

        foreach (BaseBlobEntry blob in manifest.BaseBlobs)
        {
            if (blob is null)
            {
                throw Bad(path, "a base blob entry is null");
            }

            CheckRange(path, manifest, blob.File, blob.Offset, blob.Size, "base blob");
        }

        foreach (TensorEntry tensor in manifest.Tensors)
        {
            long baseSize = 0;
            if (tensor.Base is int index)
            {
                if ((uint)index >= (uint)manifest.BaseTensors.Count)
                {
                    throw Bad(path, $"tensor '{tensor.Name}' refers to base tensor #{index}, but there are {manifest.BaseTensors.Count}");
                }

                baseSize = BaseBytesInTargetElements(path, tensor, manifest.BaseTensors[index]);
            }

            CheckChunks(path, tensor.Chunks, baseSize, long.MaxValue, $"tensor '{tensor.Name}'");
        }

        foreach (BlobEntry blob in manifest.Blobs)
        {
            long baseSize = 0;
            if (blob.Base is int index)
            {
                if ((uint)index >= (uint)manifest.BaseBlobs.Count)
                {
                    throw Bad(path, $"bytes at {blob.Offset} of file '{manifest.Files[blob.File].Path}' refer to base blob #{index}, but there are {manifest.BaseBlobs.Count}");
                }

                baseSize = manifest.BaseBlobs[index].Size;
            }

            CheckChunks(path, blob.Chunks, baseSize, ArchiveFormat.MaxChunkSize, $"bytes at {blob.Offset} of file '{manifest.Files[blob.File].Path}'");
        }
    }

    /// <summary>
    /// The base tensor's size counted in target bytes: its own size when its bytes are used as they are; for a base of
    /// another float dtype that converts to the target's (<see cref="BaseConversion.Converts"/>), its element count times
    /// the target's element size, and every chunk must then hold whole elements.
    /// </summary>
    private static long BaseBytesInTargetElements(string path, TensorEntry tensor, BaseTensorEntry baseTensor)
    {
        if (!BaseConversion.Converts(baseTensor.Dtype, tensor.Dtype, tensor.Change, out DType source, out DType target))
        {
            return baseTensor.Size;
        }

        int element = DTypes.Size(target);
        int baseElement = DTypes.Size(source);
        if (baseTensor.Size % baseElement != 0 || tensor.Chunks.Any(c => c.Size % element != 0))
        {
            throw Bad(path, $"tensor '{tensor.Name}' ({tensor.Dtype}) against base tensor '{baseTensor.Name}' ({baseTensor.Dtype}): sizes are not whole elements");
        }

        return baseTensor.Size / baseElement * element;
    }

    private static void CheckRange(string path, ManifestDocument manifest, int file, long offset, long size, string what)
    {
        if ((uint)file >= (uint)manifest.BaseFiles!.Count)
        {
            throw Bad(path, $"{what} refers to base file #{file}, but there are {manifest.BaseFiles.Count}");
        }

        if (offset < 0 || size < 0 || offset > manifest.BaseFiles[file].Size - size)
        {
            throw Bad(path, $"{what} lies outside base file '{manifest.BaseFiles[file].Path}'");
        }
    }

    /// <summary>Aligned-reference chunks must lie inside the base range; <c>zstd-ref</c> needs the whole range, capped.</summary>
    private static void CheckChunks(string path, List<ChunkEntry> chunks, long baseSize, long regionLimit, string what)
    {
        long at = 0;
        foreach (ChunkEntry chunk in chunks)
        {
            ChunkCodec codec = CodecRegistry.Find(chunk.Codec)!;
            if (codec.NeedsReference)
            {
                bool fits = codec is ZstdReferenceCodec
                    ? baseSize > 0 && baseSize <= regionLimit && regionLimit <= ArchiveFormat.MaxChunkSize
                    : at + chunk.Size <= baseSize;
                if (!fits)
                {
                    throw Bad(path, $"{what}: a '{chunk.Codec}' chunk at {at} has no base bytes to decode against");
                }
            }

            at += chunk.Size;
        }
    }

    private static WaferDataException Bad(string path, string problem, bool prefix = true) =>
        new(prefix ? $"{path}: bad patch manifest: {problem}." : $"{path}: {problem}.");
}
