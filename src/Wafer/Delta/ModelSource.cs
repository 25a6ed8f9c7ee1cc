using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using Wafer.Archive;

namespace Wafer.Delta;

/// <summary>
/// A model the patcher reads: a folder of files (memory-mapped) or a <c>.wafer</c> archive (decoded chunk by
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

    /// <summary>Hashes a whole file by reading it once in bounded pieces: XXH3-128 always, SHA-256 when asked for.</summary>
    private (string? Sha256, string Xxh128) HashByReading(int file, bool withSha256)
    {
        const int Piece = 4 << 20;
        long size = Files[file].Size;
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(Piece, Math.Max(1, size)));
        try
        {
            using IncrementalHash? sha256 = withSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            var xxh128 = new XxHash128();
            for (long at = 0; at < size; at += Piece)
            {
                ReadOnlySpan<byte> piece = Read(file, at, (int)Math.Min(Piece, size - at), scratch);
                sha256?.AppendData(piece);
                xxh128.Append(piece);
            }

            return (sha256 is null ? null : Convert.ToHexStringLower(sha256.GetHashAndReset()), PatchPlanner.HexOf(xxh128.GetCurrentHashAsUInt128()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static bool StartsWithArchiveMagic(string path)
    {
        Span<byte> magic = stackalloc byte[8];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length && magic.SequenceEqual(ArchiveFormat.PreambleMagic);
    }
}
