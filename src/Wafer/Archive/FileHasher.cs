using System.Security.Cryptography;

namespace Wafer.Archive;

/// <summary>
/// Computes the SHA-256 of each of <c>fileCount</c> files from their chunks, fed in file then offset order (the items
/// tile each file in order), and hands each file's hash to <c>finished</c> as soon as the next file begins.
/// </summary>
internal sealed class FileHasher(int fileCount, Action<int, string> finished) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _current;

    public void Append(int file, ReadOnlySpan<byte> data)
    {
        FinishUpTo(file);
        _hash.AppendData(data);
    }

    /// <summary>Finishes the remaining files, empty ones included.</summary>
    public void Complete() => FinishUpTo(fileCount);

    public void Dispose() => _hash.Dispose();

    private void FinishUpTo(int file)
    {
        while (_current < file)
        {
            finished(_current, Convert.ToHexStringLower(_hash.GetHashAndReset()));
            _current++;
        }
    }
}
