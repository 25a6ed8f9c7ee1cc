using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Wafer.Archive.Manifest;
using Wafer.IO;

namespace Wafer.Archive;

/// <summary>
/// Writes restored files under <c>root</c> from chunks that arrive in file then offset order, hashing as it
/// goes, and checks each file's SHA-256 against the manifest when the next file starts. Shared by unpack and
/// apply, so a file is only ever accepted whole and verified.
/// </summary>
internal sealed class VerifiedFileWriter(string source, List<FileEntry> files, string root) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private SafeFileHandle? _handle;
    private int _open = -1;
    private int _next;

    /// <summary>
    /// Rebuilds every file under <paramref name="root"/>: <paramref name="decode"/> runs on the workers and returns a
    /// pooled buffer holding chunk <c>i</c>'s bytes, which are written at <paramref name="place"/>(i) in order.
    /// </summary>
    public static void Restore(string source, List<FileEntry> files, string root, int count, Func<int, byte[]> decode, Func<int, (int File, long Offset, int Size)> place, int threads, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        using var writer = new VerifiedFileWriter(source, files, root);
        long total = files.Sum(f => f.Size);
        long done = 0;
        OrderedPipeline.Run(
            count,
            threads,
            decode,
            (index, buffer) =>
            {
                try
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    (int file, long offset, int size) = place(index);
                    writer.Write(file, offset, buffer.AsSpan(0, size));
                    done += size;
                    progress?.Report(new WaferProgress(done, total, files[file].Path));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            },
            buffer => ArrayPool<byte>.Shared.Return(buffer),
            whileWaiting: null,
            cancellationToken);
        writer.Complete();
    }

    public void Write(int file, long offset, ReadOnlySpan<byte> data)
    {
        while (_next <= file)
        {
            Open(_next++);
        }

        RandomAccess.Write(_handle!, data, offset);
        _hash.AppendData(data);
    }

    /// <summary>Creates the remaining (empty) files and verifies the last one.</summary>
    public void Complete()
    {
        while (_next < files.Count)
        {
            Open(_next++);
        }

        Close();
    }

    private void Open(int file)
    {
        Close();
        FileEntry entry = files[file];
        string path = SafeRelativePath.Resolve(root, entry.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, entry.Size);
        _open = file;
    }

    private void Close()
    {
        if (_handle is null)
        {
            return;
        }

        _handle.Dispose();
        _handle = null;
        FileEntry entry = files[_open];
        string actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (actual != entry.Sha256)
        {
            throw new WaferIntegrityException($"{source}: restored file '{entry.Path}' has SHA-256 {actual}, the manifest recorded {entry.Sha256}.");
        }
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _hash.Dispose();
    }
}
