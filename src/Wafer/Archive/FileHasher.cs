using System.Security.Cryptography;
using Wafer.Archive.Manifest;

namespace Wafer.Archive;

/// <summary>
/// Computes the SHA-256 of each file of a manifest from its chunks, fed in file then offset order (the items
/// tile each file in order), and records it in the file's entry as soon as the next file begins.
/// </summary>
internal sealed class FileHasher(List<FileEntry> files) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _current;

    public void Append(int file, ReadOnlySpan<byte> data)
    {
        FinishUpTo(file);
        _hash.AppendData(data);
    }

    /// <summary>Records the hashes of the remaining files, empty ones included.</summary>
    public void Complete() => FinishUpTo(files.Count);

    public void Dispose() => _hash.Dispose();

    private void FinishUpTo(int file)
    {
        while (_current < file)
        {
            files[_current].Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
            _current++;
        }
    }
}
