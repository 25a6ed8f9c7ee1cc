using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Wafer.Archive.Manifest;
using Wafer.IO;

namespace Wafer.Archive;

/// <summary>
/// Writes restored files under <c>root</c> from chunks that arrive in file then offset order, and checks each file's
/// SHA-256 against the manifest on a hash lane of its own (the writing thread never waits for the hash). Shared by
/// unpack and apply, so a file is only ever accepted whole and verified: <see cref="Complete"/> returns only when
/// every file matched.
/// </summary>
internal sealed class VerifiedFileWriter : IDisposable
{
    private readonly string _source;
    private readonly List<FileEntry> _files;
    private readonly string _root;
    private readonly FileHashLane _lane;
    private SafeFileHandle? _handle;
    private int _next;

    private VerifiedFileWriter(string source, List<FileEntry> files, string root)
    {
        _source = source;
        _files = files;
        _root = root;
        _lane = new FileHashLane(files.Count, Verify);
    }

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
                cancellationToken.ThrowIfCancellationRequested();
                (int file, long offset, int size) = place(index);
                writer.Write(file, offset, buffer, size);
                done += size;
                progress?.Report(new WaferProgress(done, total, files[file].Path));
            },
            buffer => ArrayPool<byte>.Shared.Return(buffer),
            whileWaiting: null,
            cancellationToken);
        writer.Complete();
    }

    /// <summary>Writes the first <paramref name="size"/> bytes of <paramref name="buffer"/> (rented from the shared pool, which gets it back once hashed, also when this throws).</summary>
    public void Write(int file, long offset, byte[] buffer, int size)
    {
        var block = new PooledHashBlock(buffer, size);
        try
        {
            while (_next <= file)
            {
                Open(_next++);
            }

            RandomAccess.Write(_handle!, block.Data, offset);
        }
        catch
        {
            block.Release();
            throw;
        }

        _lane.Append(file, block);
    }

    /// <summary>Creates the remaining (empty) files and waits for every file's hash to be checked.</summary>
    public void Complete()
    {
        while (_next < _files.Count)
        {
            Open(_next++);
        }

        CloseFile();
        _lane.Complete();
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _lane.Dispose();
    }

    private void Open(int file)
    {
        CloseFile();
        FileEntry entry = _files[file];
        string path = SafeRelativePath.Resolve(_root, entry.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, entry.Size);
    }

    /// <summary>Closes the file being written, if any (its hash is checked on the lane).</summary>
    private void CloseFile()
    {
        _handle?.Dispose();
        _handle = null;
    }

    /// <summary>Runs on the lane for each finished file.</summary>
    private void Verify(int file, string actual)
    {
        FileEntry entry = _files[file];
        if (actual != entry.Sha256)
        {
            throw new WaferIntegrityException($"{_source}: restored file '{entry.Path}' has SHA-256 {actual}, the manifest recorded {entry.Sha256}.");
        }
    }
}
