using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using Wafer.Archive;

namespace Wafer.Delta;

/// <summary>
/// A model the patcher reads: a folder of files (positioned reads) or a <c>.wafer</c> archive (decoded chunk by
/// chunk). Reads are thread-safe and bounded by the requested range, never by the model's size.
/// </summary>
internal abstract class ModelSource : IDisposable
{
    /// <summary>Whole-file hashes computed so far, by file index; also the lock that serialises computing them.</summary>
    private readonly Dictionary<int, (string? Sha256, string Xxh128)> _hashes = [];

    /// <summary>The folder or archive path, for messages.</summary>
    public abstract string Path { get; }

    public abstract IReadOnlyList<ModelFile> Files { get; }

    /// <summary>Reads the bytes <c>[offset, offset + destination.Length)</c> of file <paramref name="file"/> into <paramref name="destination"/>.</summary>
    public abstract void Read(int file, long offset, Span<byte> destination);

    /// <summary>The bytes <c>[offset, offset + length)</c> of file <paramref name="file"/>, read into <paramref name="scratch"/> (at least <paramref name="length"/> bytes).</summary>
    public ReadOnlySpan<byte> Read(int file, long offset, int length, byte[] scratch)
    {
        Span<byte> destination = scratch.AsSpan(0, length);
        Read(file, offset, destination);
        return destination;
    }

    /// <summary>SHA-256 of file <paramref name="file"/>, lower-case hex.</summary>
    public string Sha256(int file) => RecordedSha256(file) ?? Hashes(file).Sha256;

    /// <summary>
    /// The SHA-256 of file <paramref name="file"/> as the source records it, known without reading the file (an
    /// archive's manifest, whose chunk checksums vouch for the bytes as they are decoded); <see langword="null"/> for a folder.
    /// </summary>
    public virtual string? RecordedSha256(int file) => null;

    /// <summary>XXH3-128 (seed 0) of file <paramref name="file"/>, lower-case hex: one read of the file, no SHA-256.</summary>
    public string Xxh128(int file)
    {
        lock (_hashes)
        {
            if (!_hashes.TryGetValue(file, out (string? Sha256, string Xxh128) known))
            {
                _hashes[file] = known = HashByReading(file, withSha256: false);
            }

            return known.Xxh128;
        }
    }

    /// <summary>SHA-256 and XXH3-128 of file <paramref name="file"/>, lower-case hex, both fed from one read of the file (a recorded SHA-256 is not recomputed).</summary>
    public (string Sha256, string Xxh128) Hashes(int file)
    {
        lock (_hashes)
        {
            string? recorded = RecordedSha256(file);
            if (!_hashes.TryGetValue(file, out (string? Sha256, string Xxh128) known) || (known.Sha256 ?? recorded) is null)
            {
                _hashes[file] = known = HashByReading(file, withSha256: recorded is null);
            }

            return (known.Sha256 ?? recorded!, known.Xxh128);
        }
    }

    /// <summary>Opens a <c>.wafer</c> archive (recognised by its magic) or a model folder (or single file).</summary>
    public static ModelSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path) && StartsWithArchiveMagic(path))
        {
            return ArchiveModelSource.OpenArchive(path);
        }

        return FolderModelSource.OpenFolder(path);
    }

    public abstract void Dispose();

    /// <summary>
    /// Hashes <paramref name="files"/> whole, as <see cref="Hashes"/> does, a piece at a time: each
    /// <see cref="PieceHasher.Step"/> reads and hashes at most one piece, so a thread can fit the work between its
    /// other tasks. A file's hashes are kept, for <see cref="Hashes"/> to return, when its last piece is done.
    /// </summary>
    public PieceHasher HashInPieces(IEnumerable<int> files) => new(this, [.. files]);

    /// <summary>Hashes a whole file by reading it once in bounded pieces: XXH3-128 always, SHA-256 when asked for.</summary>
    private (string? Sha256, string Xxh128) HashByReading(int file, bool withSha256)
    {
        const int Piece = 4 << 20;
        long size = Files[file].Size;
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(Piece, Math.Max(1, size)));
        try
        {
            using var digest = new FileDigest(withSha256);
            for (long at = 0; at < size; at += Piece)
            {
                digest.Append(Read(file, at, (int)Math.Min(Piece, size - at), scratch));
            }

            return digest.Finish();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>XXH3-128, and SHA-256 when asked for, of bytes appended in order.</summary>
    private sealed class FileDigest(bool withSha256) : IDisposable
    {
        private readonly IncrementalHash? _sha256 = withSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        private readonly XxHash128 _xxh128 = new();

        public void Append(ReadOnlySpan<byte> piece)
        {
            _sha256?.AppendData(piece);
            _xxh128.Append(piece);
        }

        public (string? Sha256, string Xxh128) Finish() =>
            (_sha256 is null ? null : Convert.ToHexStringLower(_sha256.GetHashAndReset()), PatchPlanner.HexOf(_xxh128.GetCurrentHashAsUInt128()));

        public void Dispose() => _sha256?.Dispose();
    }

    /// <summary>The work of <see cref="HashInPieces"/>: one thread steps it; reads may run beside other readers.</summary>
    public sealed class PieceHasher : IDisposable
    {
        private const int Piece = 1 << 20;
        private readonly ModelSource _source;
        private readonly int[] _files;
        private readonly byte[] _scratch = ArrayPool<byte>.Shared.Rent(Piece);
        private int _next;
        private long _at;
        private FileDigest? _digest;

        internal PieceHasher(ModelSource source, int[] files)
        {
            _source = source;
            _files = files;
        }

        /// <summary>Hashes the next piece: <see langword="true"/> when it did, <see langword="false"/> when every file was already hashed.</summary>
        public bool Step()
        {
            if (_next >= _files.Length)
            {
                return false;
            }

            int file = _files[_next];
            long size = _source.Files[file].Size;
            _digest ??= new FileDigest(withSha256: _source.RecordedSha256(file) is null);
            int length = (int)Math.Min(Piece, size - _at);
            _digest.Append(_source.Read(file, _at, length, _scratch));
            _at += length;
            if (_at == size)
            {
                (string? Sha256, string Xxh128) hashes = _digest.Finish();
                lock (_source._hashes)
                {
                    _source._hashes[file] = hashes;
                }

                _digest.Dispose();
                _digest = null;
                _at = 0;
                _next++;
            }

            return true;
        }

        public void Dispose()
        {
            _digest?.Dispose();
            ArrayPool<byte>.Shared.Return(_scratch);
        }
    }

    private static bool StartsWithArchiveMagic(string path)
    {
        Span<byte> magic = stackalloc byte[8];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length && magic.SequenceEqual(ArchiveFormat.PreambleMagic);
    }
}
