using System.Security.Cryptography;
using Wafer.Archive;

namespace Wafer.Delta;

/// <summary>
/// A model the patcher reads: a folder of files (memory-mapped) or a <c>.wafer</c> archive (decoded chunk by
/// chunk). Reads are thread-safe and bounded by the requested range, never by the model's size.
/// </summary>
internal abstract class ModelSource : IDisposable
{
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
    public abstract string Sha256(int file);

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

    /// <summary>Hashes a whole file by reading it in bounded pieces.</summary>
    protected string HashByReading(int file)
    {
        const int Piece = 4 << 20;
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Piece);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = Files[file].Size;
            for (long at = 0; at < size; at += Piece)
            {
                hash.AppendData(Read(file, at, (int)Math.Min(Piece, size - at), scratch));
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static bool StartsWithArchiveMagic(string path)
    {
        Span<byte> magic = stackalloc byte[8];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length && magic.SequenceEqual(ArchiveFormat.PreambleMagic);
    }
}
