using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;

namespace Wafer.Delta;

/// <summary>
/// One run of <c>apply</c>: validates the patch, checks that the base is the one the patch was made against
/// (every base file's size and XXH3-128) before writing anything, then rebuilds
/// the target in a staged folder: chunks decoded in parallel against their base bytes, written in order, each
/// file's SHA-256 checked before the folder gets its final name.
/// </summary>
internal sealed class PatchApplier
{
    private readonly MappedFile _patch;
    private readonly ManifestDocument _manifest;
    private readonly ModelSource _base;
    private readonly int[] _baseFile;
    private Dictionary<ChunkEntry, Item> _itemByChunk = new(ReferenceEqualityComparer.Instance);
    private Dictionary<ChunkEntry, (TensorEntry Companion, long Offset, int Length)> _companionRanges = new(ReferenceEqualityComparer.Instance);

    private PatchApplier(MappedFile patch, ManifestDocument manifest, ModelSource baseModel)
    {
        _patch = patch;
        _manifest = manifest;
        _base = baseModel;
        _baseFile = new int[manifest.BaseFiles!.Count];
    }

    public static ApplyResult Run(string baseModel, string patchPath, string output, ApplyOptions options, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        string final = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        CheckOutput(output, final, options);
        MappedFile patch = MappedFile.Open(patchPath);
        try
        {
            ManifestDocument manifest = ArchiveReader.ReadManifest(patch);
            PatchManifestValidator.Validate(patch.Path, manifest);
            using ModelSource baseSource = ModelSource.Open(baseModel);
            var applier = new PatchApplier(patch, manifest, baseSource);
            applier.CheckBase(cancellationToken);
            long bytes = manifest.Files.Sum(f => f.Size);
            if (options.AsArchive)
            {
                using StagedOutput folder = StagedOutput.ForDirectory(final + ".tree");
                applier.Rebuild(folder.TemporaryPath, options.EffectiveThreads, progress, cancellationToken);
                WaferPacker.Pack(folder.TemporaryPath, final, new PackOptions { Threads = options.Threads, Overwrite = options.Overwrite }, null, cancellationToken);
                return new ApplyResult(final, manifest.Files.Count, bytes);
            }

            bool exists = Directory.Exists(final);
            using StagedOutput staging = StagedOutput.ForDirectory(final);
            applier.Rebuild(staging.TemporaryPath, options.EffectiveThreads, progress, cancellationToken);
            if (!exists)
            {
                staging.Commit(overwrite: false);
            }
            else
            {
                foreach (FileEntry file in manifest.Files)
                {
                    string target = SafeRelativePath.Resolve(final, file.Path);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Move(SafeRelativePath.Resolve(staging.TemporaryPath, file.Path), target, overwrite: true);
                }
            }

            return new ApplyResult(final, manifest.Files.Count, bytes);
        }
        finally
        {
            patch.Dispose();
        }
    }

    private static void CheckOutput(string output, string final, ApplyOptions options)
    {
        if (options.AsArchive)
        {
            if (File.Exists(final) && !options.Overwrite)
            {
                throw new IOException($"{output}: already exists (use --force to replace it).");
            }

            return;
        }

        if (Directory.Exists(final) && Directory.EnumerateFileSystemEntries(final).Any() && !options.Overwrite)
        {
            throw new IOException($"{output}: the folder is not empty (use --force to restore into it).");
        }

        if (File.Exists(final))
        {
            throw new IOException($"{output}: a file exists under that name.");
        }
    }

    /// <summary>Finds every base file the patch needs and checks its size and XXH3-128 (XXH3-128 of each tensor names the culprit); throws naming the first mismatch.</summary>
    private void CheckBase(CancellationToken cancellationToken)
    {
        var byPath = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int f = 0; f < _base.Files.Count; f++)
        {
            byPath[_base.Files[f].Path] = f;
        }

        List<BaseFileEntry> files = _manifest.BaseFiles!;
        for (int i = 0; i < files.Count; i++)
        {
            if (!byPath.TryGetValue(files[i].Path, out int f))
            {
                throw new WaferDataException($"{_base.Path}: is not the base this patch was made against: it has no file '{files[i].Path}'.");
            }

            if (_base.Files[f].Size != files[i].Size)
            {
                throw new WaferDataException($"{_base.Path}: is not the base this patch was made against: file '{files[i].Path}' has {_base.Files[f].Size} bytes, the patch expects {files[i].Size}.");
            }

            _baseFile[i] = f;
        }

        // Whole files by XXH3-128 first (one read each, ~10x faster than SHA-256); only when one differs are its
        // tensors hashed, to name the one that changed. XXH3 is not collision-resistant, so a base crafted to collide
        // gets past this check, but not under the output's name: every rebuilt file is checked against the SHA-256
        // the patch records before the staged folder is renamed. An archive base is compared by the SHA-256 its
        // manifest records, read for free (its chunks' checksums vouch for the bytes as they are decoded).
        for (int i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? recorded = _base.RecordedSha256(_baseFile[i]);
            (string algorithm, string actual, string expected) = recorded is not null
                ? ("SHA-256", recorded, files[i].Sha256)
                : ("XXH3-128", _base.Xxh128(_baseFile[i]), files[i].Xxh128);
            if (actual == expected)
            {
                continue;
            }

            foreach (BaseTensorEntry tensor in _manifest.BaseTensors!.Where(t => t.File == i))
            {
                string tensorHash = PatchPlanner.HexOf(PatchPlanner.HashRange(_base, _baseFile[i], tensor.Offset, tensor.Size));
                if (tensorHash != tensor.Xxh128)
                {
                    throw new WaferDataException($"{_base.Path}: is not the base this patch was made against: tensor '{tensor.Name}' in '{files[i].Path}' has XXH3-128 {tensorHash}, the patch expects {tensor.Xxh128}.");
                }
            }

            throw new WaferDataException($"{_base.Path}: is not the base this patch was made against: file '{files[i].Path}' has {algorithm} {actual}, the patch expects {expected}.");
        }
    }

    private void Rebuild(string root, int threads, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        List<Item> items = BuildPlan();
        IndexCompanions(items);
        VerifiedFileWriter.Restore(_patch.Path, _manifest.Files, root, items.Count, i => Decode(items[i]), i => (items[i].File, items[i].Offset, items[i].Chunk.Size), threads, progress, cancellationToken);
    }

    private byte[] Decode(Item item)
    {
        ChunkCodec codec = CodecRegistry.Find(item.Chunk.Codec)!;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(item.Chunk.Size);
        byte[]? scratch = null;
        try
        {
            ReadOnlySpan<byte> reference = default;
            if (codec is F32Bf16ResidualCodec && _companionRanges.TryGetValue(item.Chunk, out (TensorEntry Companion, long Offset, int Length) twin))
            {
                scratch = ArrayPool<byte>.Shared.Rent(Math.Max(1, twin.Length));
                ReadCompanion(twin.Companion, twin.Offset, scratch.AsSpan(0, twin.Length));
                reference = scratch.AsSpan(0, twin.Length);
            }
            else if (codec.NeedsReference && codec is not ZstdReferenceCodec && item.BaseDType != item.DType)
            {
                // A base of another float dtype: its elements opposite the chunk, converted to the chunk's dtype.
                int length = item.Chunk.Size / DTypes.Size(item.DType) * DTypes.Size(item.BaseDType);
                scratch = ArrayPool<byte>.Shared.Rent(Math.Max(1, length + item.Chunk.Size));
                ReadOnlySpan<byte> elements = _base.Read(_baseFile[item.BaseFile], item.AlignedOffset, length, scratch);
                Span<byte> converted = scratch.AsSpan(length, item.Chunk.Size);
                BaseConversion.Convert(elements, item.BaseDType, converted, item.DType);
                reference = converted;
            }
            else if (codec.NeedsReference)
            {
                (int file, long offset, int length) = codec is ZstdReferenceCodec
                    ? (item.BaseFile, item.RegionOffset, item.RegionLength)
                    : (item.BaseFile, item.AlignedOffset, item.Chunk.Size);
                scratch = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
                reference = _base.Read(_baseFile[file], offset, length, scratch);
            }

            ChunkDecoder.Decode(_patch, item.Chunk, item.DType, reference, buffer.AsSpan(0, item.Chunk.Size), item.What);
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>Every chunk in file then offset order, with the base bytes it decodes against (validated in range).</summary>
    private List<Item> BuildPlan()
    {
        var items = new List<Item>();
        foreach (TensorEntry tensor in _manifest.Tensors)
        {
            DType dtype = DTypes.TryParse(tensor.Dtype, out DType known) ? known : DType.Opaque;
            BaseTensorEntry? reference = tensor.Base is int b ? _manifest.BaseTensors![b] : null;

            // A base of another float dtype that converts lies opposite element for element (the validator checked the sizes).
            DType baseType = reference is not null && BaseConversion.Converts(reference.Dtype, tensor.Dtype, tensor.Change, out DType other, out _) ? other : dtype;
            long at = 0;
            for (int i = 0; i < tensor.Chunks.Count; i++)
            {
                ChunkEntry chunk = tensor.Chunks[i];
                string what = tensor.Chunks.Count == 1 ? $"tensor '{tensor.Name}'" : $"tensor '{tensor.Name}' chunk {i}";
                long aligned = reference is null ? 0 : reference.Offset + (baseType == dtype ? at : at / DTypes.Size(dtype) * DTypes.Size(baseType));
                items.Add(new Item(tensor.File, tensor.Offset + at, chunk, dtype, what, reference?.File ?? 0, aligned, 0, 0, baseType));
                at += chunk.Size;
            }
        }

        foreach (BlobEntry blob in _manifest.Blobs)
        {
            BaseBlobEntry? reference = blob.Base is int b ? _manifest.BaseBlobs![b] : null;
            long at = 0;
            for (int i = 0; i < blob.Chunks.Count; i++)
            {
                ChunkEntry chunk = blob.Chunks[i];
                string what = $"file '{_manifest.Files[blob.File].Path}' bytes at {blob.Offset + at}";
                items.Add(new Item(blob.File, blob.Offset + at, chunk, DType.Opaque, what, reference?.File ?? 0, reference is null ? 0 : reference.Offset + at, reference?.Offset ?? 0, (int)(reference?.Size ?? 0), DType.Opaque));
                at += chunk.Size;
            }
        }

        items.Sort(static (a, b) => a.File != b.File ? a.File.CompareTo(b.File) : a.Offset.CompareTo(b.Offset));
        return items;
    }

    /// <summary>Maps each chunk to its item, and each chunk of a tensor with a companion to the companion bytes opposite it.</summary>
    private void IndexCompanions(List<Item> items)
    {
        _itemByChunk = new Dictionary<ChunkEntry, Item>(items.Count, ReferenceEqualityComparer.Instance);
        foreach (Item item in items)
        {
            _itemByChunk[item.Chunk] = item;
        }

        _companionRanges = CompanionPairing.ChunkRanges(_manifest.Tensors);
    }

    /// <summary>Rebuilds bytes of a target tensor (a companion, which has none itself) by decoding the chunks covering them.</summary>
    private void ReadCompanion(TensorEntry companion, long offset, Span<byte> destination) =>
        CompanionPairing.ReadRange(companion.Chunks, offset, destination, i => Decode(_itemByChunk[companion.Chunks[i]]));

    /// <summary>One chunk to rebuild; <paramref name="BaseDType"/> is the dtype of the base elements opposite it (<paramref name="DType"/> unless they convert).</summary>
    private readonly record struct Item(int File, long Offset, ChunkEntry Chunk, DType DType, string What, int BaseFile, long AlignedOffset, long RegionOffset, int RegionLength, DType BaseDType);
}
