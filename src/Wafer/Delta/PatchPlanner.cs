using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.ExceptionServices;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>
/// Matches a target model to its base and lays out the patch: tensors by name (same file, then any file),
/// then by content hash (renamed or moved); files by path, then by SHA-256. Each target tensor is coded against
/// its matched base tensor over the region where their bytes line up (all of it for equal shapes; the common
/// leading rows when only the first dimension changed, e.g. a grown vocabulary), the rest standalone.
/// Non-tensor bytes are coded against the base's corresponding bytes.
/// </summary>
internal sealed class PatchPlanner
{
    private readonly ModelSource _base;
    private readonly ModelSource _target;
    private readonly int _chunkSize;
    private readonly List<BaseTensor> _baseTensors = [];
    private readonly Dictionary<(string File, string Name), int> _baseByFileAndName = [];
    private readonly Dictionary<string, List<int>> _baseByName = new(StringComparer.Ordinal);
    private readonly Dictionary<(UInt128 Hash, long Size), int> _baseByContent = [];
    private readonly Dictionary<string, int> _baseFileByPath = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _baseFileEntry = [];
    private readonly Dictionary<int, int> _baseTensorEntry = [];
    private readonly bool[] _baseTensorUsed;
    private readonly bool[] _baseFileUsed;
    private readonly Dictionary<(int File, long Offset, long Length), UInt128> _targetTensorHash = [];
    private readonly Dictionary<int, int> _matchedBaseFile = [];
    private int _unchanged, _modified, _reshaped, _added, _renamed;
    private int _filesUnchanged, _filesModified, _filesAdded, _filesRenamed;

    private PatchPlanner(ModelSource baseModel, ModelSource target, int chunkSize, int threads)
    {
        _base = baseModel;
        _target = target;
        _chunkSize = chunkSize;
        Manifest = new ManifestDocument
        {
            Wafer = ArchiveFormat.ManifestSchema,
            Kind = "patch",
            ChunkSize = chunkSize,
            BaseFiles = [],
            BaseTensors = [],
            BaseBlobs = [],
        };
        (UInt128[] baseHashes, UInt128[] targetHashes) = HashTensors(baseModel, target, threads);
        int targetTensor = 0;
        for (int f = 0; f < target.Files.Count; f++)
        {
            // An empty tensor shares its offset with the next tensor, so the length is part of the key (empty
            // tensors at one offset share a key, and their hashes are equal).
            foreach (LayoutSegment segment in target.Files[f].Segments.Where(s => s.Tensor is not null))
            {
                _targetTensorHash[(f, segment.Offset, segment.Length)] = targetHashes[targetTensor++];
            }
        }

        for (int f = 0; f < baseModel.Files.Count; f++)
        {
            _baseFileByPath[baseModel.Files[f].Path] = f;
            foreach (LayoutSegment segment in baseModel.Files[f].Segments)
            {
                if (segment.Tensor is TensorDescriptor tensor)
                {
                    int index = _baseTensors.Count;
                    UInt128 hash = baseHashes[index];
                    _baseTensors.Add(new BaseTensor(f, segment.Offset, segment.Length, tensor, hash));
                    _baseByFileAndName.TryAdd((baseModel.Files[f].Path, tensor.Name), index);
                    if (!_baseByName.TryGetValue(tensor.Name, out List<int>? list))
                    {
                        _baseByName[tensor.Name] = list = [];
                    }

                    list.Add(index);
                    _baseByContent.TryAdd((hash, segment.Length), index);
                }
            }
        }

        _baseTensorUsed = new bool[_baseTensors.Count];
        _baseFileUsed = new bool[baseModel.Files.Count];
    }

    public ManifestDocument Manifest { get; }

    public List<PatchItem> Items { get; } = [];

    public PatchChanges TensorChanges { get; private set; } = new(0, 0, 0, 0, 0, 0);

    public PatchChanges FileChanges { get; private set; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Plans the patch; the tensors' hashes are computed on <paramref name="threads"/> workers and the calling thread.</summary>
    public static PatchPlanner Plan(ModelSource baseModel, ModelSource target, int chunkSize, int threads)
    {
        var planner = new PatchPlanner(baseModel, target, chunkSize, threads);
        for (int f = 0; f < target.Files.Count; f++)
        {
            planner.PlanFile(f);
        }

        planner.Finish();
        return planner;
    }

    private void PlanFile(int fileIndex)
    {
        ModelFile file = _target.Files[fileIndex];
        var entry = new FileEntry { Path = file.Path, Size = file.Size, Format = file.Format };
        Manifest.Files.Add(entry);
        int baseFile = _baseFileByPath.GetValueOrDefault(file.Path, -1);
        string? renamedFrom = null;
        if (baseFile < 0 && file.Segments.All(s => s.Tensor is null))
        {
            baseFile = FindBaseFileByContent(fileIndex);
            renamedFrom = baseFile >= 0 ? _base.Files[baseFile].Path : null;
        }

        if (baseFile < 0 && _base.Files.Count == 1 && _target.Files.Count == 1 && !_baseFileByPath.ContainsKey(file.Path))
        {
            // One file against one file (`wafer diff old.safetensors new.safetensors`): whatever their names, the one is
            // the other's base, so its header is coded against the base's header and it counts as modified, not as
            // one file added and another removed.
            baseFile = 0;
        }

        if (baseFile >= 0 && renamedFrom is null)
        {
            _matchedBaseFile[fileIndex] = baseFile;
        }

        if (baseFile >= 0)
        {
            _baseFileUsed[baseFile] = true;
        }

        int blobOrdinal = 0;
        List<LayoutSegment>? baseBlobs = baseFile >= 0 ? [.. _base.Files[baseFile].Segments.Where(s => s.Tensor is null)] : null;
        foreach (LayoutSegment segment in file.Segments)
        {
            if (segment.Tensor is TensorDescriptor tensor)
            {
                PlanTensor(fileIndex, file, segment, tensor);
            }
            else
            {
                LayoutSegment? opposite = baseBlobs is not null && blobOrdinal < baseBlobs.Count ? baseBlobs[blobOrdinal] : null;
                PlanBlob(fileIndex, segment, baseFile, opposite);
                blobOrdinal++;
            }
        }

        // File-level change is settled by hashes once the chunks are written; record what matching found.
        entry.Change = renamedFrom is not null ? "renamed" : baseFile >= 0 ? "modified" : "added";
    }

    private void PlanTensor(int fileIndex, ModelFile file, LayoutSegment segment, TensorDescriptor tensor)
    {
        UInt128 hash = _targetTensorHash[(fileIndex, segment.Offset, segment.Length)];
        int match = _baseByFileAndName.GetValueOrDefault((file.Path, tensor.Name), -1);
        bool byName = true;
        if (match < 0 && _baseByName.TryGetValue(tensor.Name, out List<int>? sameName) && sameName.Count == 1)
        {
            match = sameName[0];
        }

        if (match < 0 || (_baseTensors[match].Hash != hash && _baseByContent.ContainsKey((hash, segment.Length))))
        {
            // No tensor of that name, or the name now holds another base tensor's exact bytes: match by content.
            if (_baseByContent.TryGetValue((hash, segment.Length), out int byContent))
            {
                match = byContent;
                byName = false;
            }
        }

        var entry = new TensorEntry
        {
            Name = tensor.Name,
            Dtype = tensor.DTypeName,
            Shape = tensor.Shape,
            File = fileIndex,
            Offset = segment.Offset,
            Size = segment.Length,
        };
        Manifest.Tensors.Add(entry);
        long overlap = 0;
        DType baseType = tensor.DType;
        if (match < 0)
        {
            entry.Change = "added";
            _added++;
        }
        else
        {
            BaseTensor baseTensor = _baseTensors[match];
            _baseTensorUsed[match] = true;
            bool sameBytes = baseTensor.Hash == hash && baseTensor.Size == segment.Length;
            bool sameFile = _base.Files[baseTensor.File].Path == file.Path;
            bool sameType = baseTensor.Descriptor.DTypeName == tensor.DTypeName;
            bool sameShape = baseTensor.Descriptor.Shape.AsSpan().SequenceEqual(tensor.Shape);
            if (sameBytes && byName && sameFile && sameType && sameShape)
            {
                entry.Change = "unchanged";
                _unchanged++;
            }
            else if (sameBytes)
            {
                entry.Change = "renamed";
                _renamed++;
            }
            else if (sameShape)
            {
                entry.Change = "modified";
                _modified++;
            }
            else
            {
                entry.Change = "reshaped";
                _modified++;
                _reshaped++;
            }

            // A base of another float dtype that converts lies opposite element for element (identical bytes are a
            // rename, coded against the bytes as they are).
            bool converts = BaseConversion.Converts(baseTensor.Descriptor.DTypeName, tensor.DTypeName, entry.Change, out baseType, out _);
            if (!converts)
            {
                baseType = tensor.DType;
            }

            overlap = sameBytes ? segment.Length : Overlap(baseTensor, tensor, segment.Length, converts);
            if (overlap > 0)
            {
                entry.Base = BaseTensorIndex(match);
            }
        }

        List<ChunkEntry> chunks = entry.Chunks;
        int element = DTypes.Size(tensor.DType);
        int chunk = Math.Max(element, _chunkSize / element * element);
        BaseTensor? reference = match >= 0 ? _baseTensors[match] : null;
        int baseElement = DTypes.Size(baseType);
        for (long at = 0; at < segment.Length;)
        {
            long end = at < overlap ? Math.Min(overlap, at + chunk) : Math.Min(segment.Length, at + chunk);
            int length = (int)(end - at);
            long aligned = at < overlap ? reference!.Value.Offset + (at / element * baseElement) : -1;
            (int rowLength, int firstColumn) = tensor.RowGeometry(at);
            Items.Add(new PatchItem(fileIndex, segment.Offset + at, length, tensor.DType, true, chunks, reference?.File ?? -1, aligned, 0, 0, rowLength, firstColumn, BaseDType: baseType));
            at = end;
        }
    }

    private void PlanBlob(int fileIndex, LayoutSegment segment, int baseFile, LayoutSegment? opposite)
    {
        var entry = new BlobEntry { File = fileIndex, Offset = segment.Offset, Size = segment.Length };
        Manifest.Blobs.Add(entry);
        long regionOffset = 0, regionLength = 0;
        if (baseFile >= 0 && opposite is LayoutSegment region && region.Length > 0)
        {
            regionOffset = region.Offset;
            regionLength = region.Length;
            entry.Base = Manifest.BaseBlobs!.Count;
            Manifest.BaseBlobs.Add(new BaseBlobEntry { File = BaseFileIndex(baseFile), Offset = region.Offset, Size = region.Length });
        }

        for (long at = 0; at < segment.Length; at += _chunkSize)
        {
            int length = (int)Math.Min(_chunkSize, segment.Length - at);
            long aligned = regionLength > 0 && at + length <= regionLength ? regionOffset + at : -1;
            int zstdRegion = regionLength is > 0 and <= ArchiveFormat.MaxChunkSize ? (int)regionLength : 0;
            Items.Add(new PatchItem(fileIndex, segment.Offset + at, length, DType.Opaque, false, entry.Chunks, baseFile, aligned, regionOffset, zstdRegion));
        }
    }

    /// <summary>
    /// Target bytes at the start of both tensors that hold the same elements: all for equal shapes, the common leading
    /// rows when only dimension 0 differs. Float tensors of different dtypes overlap, element for element, when the
    /// base <paramref name="converts"/> to the target's dtype (<see cref="BaseConversion.Converts"/>).
    /// </summary>
    private static long Overlap(BaseTensor baseTensor, TensorDescriptor tensor, long size, bool converts)
    {
        TensorDescriptor b = baseTensor.Descriptor;
        bool sameType = b.DTypeName == tensor.DTypeName;
        if (!(sameType && DTypes.IsFloat(tensor.DType)) && !converts)
        {
            return sameType && baseTensor.Size == size ? size : 0;
        }

        int element = DTypes.Size(tensor.DType);
        long baseElements = baseTensor.Size / DTypes.Size(b.DType);
        if (b.Shape.Length == tensor.Shape.Length && (b.Shape.Length == 0 || b.Shape.AsSpan(1).SequenceEqual(tensor.Shape.AsSpan(1))))
        {
            return Math.Min(baseElements * element, size);
        }

        return baseElements * element == size ? size : 0;
    }

    private int FindBaseFileByContent(int targetFile)
    {
        long size = _target.Files[targetFile].Size;
        string? hash = null;
        for (int f = 0; f < _base.Files.Count; f++)
        {
            if (_base.Files[f].Size != size || _base.Files[f].Segments.Any(s => s.Tensor is not null) || _target.Files.Any(t => t.Path == _base.Files[f].Path))
            {
                continue;
            }

            hash ??= _target.Sha256(targetFile);
            if (_base.Sha256(f) == hash)
            {
                return f;
            }
        }

        return -1;
    }

    private int BaseFileIndex(int baseFile)
    {
        if (!_baseFileEntry.TryGetValue(baseFile, out int index))
        {
            index = Manifest.BaseFiles!.Count;
            ModelFile file = _base.Files[baseFile];
            // The hashes are filled in by HashBaseFiles, which the writer runs beside the encoding.
            Manifest.BaseFiles.Add(new BaseFileEntry { Path = file.Path, Size = file.Size });
            _baseFileEntry[baseFile] = index;
        }

        return index;
    }

    private int BaseTensorIndex(int baseTensor)
    {
        if (!_baseTensorEntry.TryGetValue(baseTensor, out int index))
        {
            BaseTensor tensor = _baseTensors[baseTensor];
            index = Manifest.BaseTensors!.Count;
            Manifest.BaseTensors.Add(new BaseTensorEntry
            {
                Name = tensor.Descriptor.Name,
                File = BaseFileIndex(tensor.File),
                Dtype = tensor.Descriptor.DTypeName,
                Shape = tensor.Descriptor.Shape,
                Offset = tensor.Offset,
                Size = tensor.Size,
                Xxh128 = HexOf(tensor.Hash),
            });
            _baseTensorEntry[baseTensor] = index;
        }

        return index;
    }

    private void Finish()
    {
        int removedTensors = _baseTensorUsed.Count(used => !used);
        TensorChanges = new PatchChanges(_unchanged, _modified, _reshaped, _added, removedTensors, _renamed);
        foreach (FileEntry file in Manifest.Files)
        {
            switch (file.Change)
            {
                case "renamed":
                    _filesRenamed++;
                    break;
                case "added":
                    _filesAdded++;
                    break;
                default:
                    break;
            }
        }

        int removedFiles = _baseFileUsed.Count(used => !used);
        Manifest.Info = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["writer"] = $"wafer {typeof(PatchPlanner).Assembly.GetName().Version?.ToString(3)}",
            ["tensors.unchanged"] = _unchanged.ToString(CultureInfo.InvariantCulture),
            ["tensors.modified"] = _modified.ToString(CultureInfo.InvariantCulture),
            ["tensors.reshaped"] = _reshaped.ToString(CultureInfo.InvariantCulture),
            ["tensors.added"] = _added.ToString(CultureInfo.InvariantCulture),
            ["tensors.removed"] = removedTensors.ToString(CultureInfo.InvariantCulture),
            ["tensors.renamed"] = _renamed.ToString(CultureInfo.InvariantCulture),
            ["files.removed"] = removedFiles.ToString(CultureInfo.InvariantCulture),
        };
        FileChanges = new PatchChanges(_filesUnchanged, _filesModified, 0, _filesAdded, removedFiles, _filesRenamed);
    }

    /// <summary>The base files the patch names, by index in the base model.</summary>
    public IEnumerable<int> BaseFilesNamed => _baseFileEntry.Keys;

    /// <summary>
    /// Records the SHA-256 (for people comparing base files with a hub's) and the XXH3-128 (what <c>apply</c> checks)
    /// of every base file the patch names; both from one read of each (none for a file already hashed, as by
    /// <see cref="ModelSource.HashInPieces"/>), thread-safe against the encoding.
    /// </summary>
    public void HashBaseFiles(CancellationToken cancellationToken)
    {
        foreach ((int baseFile, int entry) in _baseFileEntry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BaseFileEntry file = Manifest.BaseFiles![entry];
            (file.Sha256, file.Xxh128) = _base.Hashes(baseFile);
        }
    }

    /// <summary>Settles unchanged versus modified for files once their SHA-256 is known (after writing).</summary>
    public void SettleFileChanges()
    {
        _filesUnchanged = 0;
        _filesModified = 0;
        for (int f = 0; f < Manifest.Files.Count; f++)
        {
            FileEntry file = Manifest.Files[f];
            if (file.Change != "modified")
            {
                continue;
            }

            int baseFile = _matchedBaseFile[f];
            bool same = _base.Files[baseFile].Size == file.Size && _base.Sha256(baseFile) == file.Sha256;

            // A file paired with a base file of another name (one file against one) is renamed when its bytes are the same.
            file.Change = !same ? "modified" : _base.Files[baseFile].Path == file.Path ? "unchanged" : "renamed";
            switch (file.Change)
            {
                case "unchanged":
                    _filesUnchanged++;
                    break;
                case "renamed":
                    _filesRenamed++;
                    break;
                default:
                    _filesModified++;
                    break;
            }
        }

        FileChanges = FileChanges with { Unchanged = _filesUnchanged, Modified = _filesModified, Renamed = _filesRenamed };
        Manifest.Info!["files.unchanged"] = _filesUnchanged.ToString(CultureInfo.InvariantCulture);
        Manifest.Info["files.modified"] = _filesModified.ToString(CultureInfo.InvariantCulture);
        Manifest.Info["files.added"] = FileChanges.Added.ToString(CultureInfo.InvariantCulture);
        Manifest.Info["files.renamed"] = FileChanges.Renamed.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// XXH3-128 of every tensor of <paramref name="baseModel"/> and of <paramref name="target"/>, each list in file then
    /// segment order. Matching needs them all before it starts, so they are computed side by side: on one thread
    /// they were an eighth of a 20 MB diff, spent before any encoder could start.
    /// </summary>
    private static (UInt128[] Base, UInt128[] Target) HashTensors(ModelSource baseModel, ModelSource target, int threads)
    {
        static IEnumerable<(ModelSource Source, int File, LayoutSegment Segment)> Tensors(ModelSource source) =>
            Enumerable.Range(0, source.Files.Count).SelectMany(f => source.Files[f].Segments.Where(s => s.Tensor is not null).Select(s => (source, f, s)));

        List<(ModelSource Source, int File, LayoutSegment Segment)> ranges = [.. Tensors(baseModel)];
        int baseCount = ranges.Count;
        ranges.AddRange(Tensors(target));
        var hashes = new UInt128[ranges.Count];
        try
        {
            Parallel.For(0, ranges.Count, new ParallelOptions { MaxDegreeOfParallelism = threads + 1 }, i =>
                hashes[i] = HashRange(ranges[i].Source, ranges[i].File, ranges[i].Segment.Offset, ranges[i].Segment.Length));
        }
        catch (AggregateException e)
        {
            // A read failure (a file that shrank, a corrupt archive base) surfaces as itself, as it did on one thread:
            // callers and the command line tell failures apart by their type.
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }

        return (hashes[..baseCount], hashes[baseCount..]);
    }

    internal static string HexOf(UInt128 hash) => hash.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>XXH3-128 of a byte range, read in bounded pieces.</summary>
    internal static UInt128 HashRange(ModelSource source, int file, long offset, long length)
    {
        const int Piece = 4 << 20;
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(Piece, Math.Max(1, length)));
        try
        {
            var hash = new XxHash128();
            for (long at = 0; at < length; at += Piece)
            {
                hash.Append(source.Read(file, offset + at, (int)Math.Min(Piece, length - at), scratch));
            }

            return hash.GetCurrentHashAsUInt128();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private readonly record struct BaseTensor(int File, long Offset, long Size, TensorDescriptor Descriptor, UInt128 Hash);
}
