using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.IO;

namespace Wafer;

/// <summary>
/// An open Wafer archive. Opening reads and validates only the trailer and manifest; reading a tensor touches
/// only that tensor's chunks. Thread-safe for concurrent reads.
/// </summary>
public sealed partial class WaferArchive : IDisposable
{
    private readonly MappedFile _file;
    private readonly ManifestDocument _manifest;
    private readonly Dictionary<string, List<ArchiveTensor>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<ChunkEntry, (TensorEntry Companion, long Offset, int Length)> _companionRanges;

    private WaferArchive(MappedFile file, ManifestDocument manifest)
    {
        _file = file;
        _manifest = manifest;
        _companionRanges = BuildCompanionRanges();
        Files = [.. manifest.Files.Select(f => new ArchiveFile(f.Path, f.Size, f.Sha256, f.Format))];
        var tensors = new List<ArchiveTensor>(manifest.Tensors.Count);
        for (int i = 0; i < manifest.Tensors.Count; i++)
        {
            TensorEntry entry = manifest.Tensors[i];
            DType dtype = DTypes.TryParse(entry.Dtype, out DType known) ? known : DType.Opaque;
            var tensor = new ArchiveTensor(i, entry.Name, entry.Dtype, dtype, entry.Shape, Files[entry.File], entry.Offset, entry.Size, entry.Chunks.Sum(c => (long)c.Stored));
            tensors.Add(tensor);
            if (!_byName.TryGetValue(entry.Name, out List<ArchiveTensor>? list))
            {
                _byName[entry.Name] = list = [];
            }

            list.Add(tensor);
        }

        Tensors = tensors;
    }

    /// <summary>The archive's path.</summary>
    public string Path => _file.Path;

    /// <summary>The archive's size in bytes.</summary>
    public long Length => _file.Length;

    /// <summary>The stored files, in archive order.</summary>
    public IReadOnlyList<ArchiveFile> Files { get; }

    /// <summary>All tensors of all files, in file then offset order.</summary>
    public IReadOnlyList<ArchiveTensor> Tensors { get; }

    /// <summary>True when the file is a patch (<c>wafer diff</c>): it rebuilds a model only together with its base (<see cref="WaferPatch.Apply"/>).</summary>
    public bool IsPatch => _manifest.Kind == "patch";

    /// <summary>The chunk size the writer used.</summary>
    public int ChunkSize => _manifest.ChunkSize;

    /// <summary>Total size of the original files.</summary>
    public long OriginalBytes => _manifest.Files.Sum(f => f.Size);

    internal ManifestDocument Manifest => _manifest;

    internal MappedFile File => _file;

    /// <summary>Opens and validates the archive at <paramref name="path"/>.</summary>
    /// <exception cref="WaferDataException">The file is not a Wafer archive, is truncated, or its manifest is malformed.</exception>
    public static WaferArchive Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        MappedFile file = MappedFile.Open(path);
        try
        {
            return new WaferArchive(file, ArchiveReader.ReadManifest(file));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The tensors called <paramref name="name"/> (more than one only when several files use the name).</summary>
    public IReadOnlyList<ArchiveTensor> FindTensors(string name) =>
        _byName.TryGetValue(name, out List<ArchiveTensor>? list) ? list : [];

    /// <summary>Decodes <paramref name="tensor"/> into <paramref name="destination"/>, which must be exactly its size.</summary>
    /// <exception cref="WaferIntegrityException">A chunk of the tensor is corrupt.</exception>
    public void ReadTensor(ArchiveTensor tensor, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (destination.Length != tensor.Size)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes; tensor '{tensor.Name}' has {tensor.Size}.", nameof(destination));
        }

        TensorEntry entry = _manifest.Tensors[tensor.Index];
        int offset = 0;
        for (int i = 0; i < entry.Chunks.Count; i++)
        {
            ChunkEntry chunk = entry.Chunks[i];
            DecodeChunk(chunk, tensor.DType, destination.Slice(offset, chunk.Size), $"tensor '{tensor.Name}' chunk {i}");
            offset += chunk.Size;
        }
    }

    /// <summary>Decodes <paramref name="tensor"/> chunk by chunk into <paramref name="destination"/>; memory stays at one chunk.</summary>
    public void CopyTensorTo(ArchiveTensor tensor, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(destination);
        TensorEntry entry = _manifest.Tensors[tensor.Index];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, entry.Chunks.Count == 0 ? 1 : entry.Chunks.Max(c => c.Size)));
        try
        {
            for (int i = 0; i < entry.Chunks.Count; i++)
            {
                ChunkEntry chunk = entry.Chunks[i];
                DecodeChunk(chunk, tensor.DType, buffer.AsSpan(0, chunk.Size), $"tensor '{tensor.Name}' chunk {i}");
                destination.Write(buffer, 0, chunk.Size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Bytes per dtype and codec, each stored payload counted once.</summary>
    public IReadOnlyList<CodecUsage> GetCodecUsage()
    {
        var rows = new SortedDictionary<(string, string), (long Chunks, long Original, long Stored)>();
        var counted = new HashSet<long>();
        void Add(string dtype, ChunkEntry chunk)
        {
            rows.TryGetValue((dtype, chunk.Codec), out var row);
            bool first = counted.Add(chunk.At);
            rows[(dtype, chunk.Codec)] = (row.Chunks + 1, row.Original + chunk.Size, row.Stored + (first ? chunk.Stored : 0));
        }

        foreach (TensorEntry tensor in _manifest.Tensors)
        {
            tensor.Chunks.ForEach(c => Add(tensor.Dtype, c));
        }

        foreach (BlobEntry blob in _manifest.Blobs)
        {
            blob.Chunks.ForEach(c => Add("bytes", c));
        }

        return [.. rows.Select(r => new CodecUsage(r.Key.Item1, r.Key.Item2, r.Value.Chunks, r.Value.Original, r.Value.Stored))];
    }

    /// <summary>Closes the archive.</summary>
    public void Dispose() => _file.Dispose();
}
