using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>A <c>.wafer</c> archive read as a model: ranges are rebuilt by decoding (and checksumming) the chunks that cover them.</summary>
internal sealed class ArchiveModelSource : ModelSource
{
    private readonly WaferArchive _archive;
    private readonly List<ModelFile> _files = [];
    private readonly List<Piece>[] _pieces;

    private ArchiveModelSource(WaferArchive archive)
    {
        _archive = archive;
        ManifestDocument manifest = archive.Manifest;
        if (manifest.Kind != "archive")
        {
            throw new WaferDataException($"{archive.Path}: is a {manifest.Kind}, not a model archive; apply it first to get the model.");
        }

        _pieces = new List<Piece>[manifest.Files.Count];
        var segments = new List<LayoutSegment>[manifest.Files.Count];
        for (int i = 0; i < _pieces.Length; i++)
        {
            _pieces[i] = [];
            segments[i] = [];
        }

        foreach (TensorEntry tensor in manifest.Tensors)
        {
            DType dtype = DTypes.TryParse(tensor.Dtype, out DType known) ? known : DType.Opaque;
            segments[tensor.File].Add(new LayoutSegment(tensor.Offset, tensor.Size, new TensorDescriptor(tensor.Name, tensor.Dtype, dtype, tensor.Shape)));
            AddPieces(tensor.File, tensor.Offset, tensor.Chunks, dtype, $"tensor '{tensor.Name}'");
        }

        foreach (BlobEntry blob in manifest.Blobs)
        {
            segments[blob.File].Add(new LayoutSegment(blob.Offset, blob.Size, null));
            AddPieces(blob.File, blob.Offset, blob.Chunks, DType.Opaque, $"file '{manifest.Files[blob.File].Path}' bytes at {blob.Offset}");
        }

        for (int i = 0; i < _pieces.Length; i++)
        {
            segments[i].Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
            _pieces[i].Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
            FileEntry file = manifest.Files[i];
            _files.Add(new ModelFile(file.Path, file.Size, file.Format, segments[i]));
        }
    }

    public override string Path => _archive.Path;

    public override IReadOnlyList<ModelFile> Files => _files;

    public static ArchiveModelSource OpenArchive(string path)
    {
        WaferArchive archive = WaferArchive.Open(path);
        try
        {
            return new ArchiveModelSource(archive);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    public override void Read(int file, long offset, Span<byte> destination)
    {
        int length = destination.Length;
        if (offset < 0 || offset > _files[file].Size - length)
        {
            throw new WaferDataException($"{Path}: range [{offset}, {offset + length}) lies outside file '{_files[file].Path}'.");
        }

        List<Piece> pieces = _pieces[file];
        int lo = 0, hi = pieces.Count - 1, first = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (pieces[mid].Offset <= offset)
            {
                first = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        long end = offset + length;
        for (int i = first; i < pieces.Count && pieces[i].Offset < end; i++)
        {
            Piece piece = pieces[i];
            long pieceEnd = piece.Offset + piece.Chunk.Size;
            if (pieceEnd <= offset)
            {
                continue;
            }

            long from = Math.Max(offset, piece.Offset);
            long to = Math.Min(end, pieceEnd);
            if (from == piece.Offset && to == pieceEnd)
            {
                _archive.DecodeChunk(piece.Chunk, piece.DType, destination.Slice((int)(from - offset), piece.Chunk.Size), piece.What);
                continue;
            }

            byte[] whole = ArrayPool<byte>.Shared.Rent(piece.Chunk.Size);
            try
            {
                _archive.DecodeChunk(piece.Chunk, piece.DType, whole.AsSpan(0, piece.Chunk.Size), piece.What);
                whole.AsSpan((int)(from - piece.Offset), (int)(to - from)).CopyTo(destination[(int)(from - offset)..]);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(whole);
            }
        }
    }

    /// <summary>The SHA-256 the archive recorded; the chunks' checksums vouch for the bytes as they are decoded.</summary>
    public override string? RecordedSha256(int file) => _archive.Manifest.Files[file].Sha256;

    public override void Dispose() => _archive.Dispose();

    private void AddPieces(int file, long offset, List<ChunkEntry> chunks, DType dtype, string what)
    {
        for (int i = 0; i < chunks.Count; i++)
        {
            _pieces[file].Add(new Piece(offset, chunks[i], dtype, chunks.Count == 1 ? what : $"{what} chunk {i}"));
            offset += chunks[i].Size;
        }
    }

    private readonly record struct Piece(long Offset, ChunkEntry Chunk, DType DType, string What);
}
