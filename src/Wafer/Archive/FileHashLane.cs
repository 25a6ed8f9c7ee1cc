using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Wafer.IO;

namespace Wafer.Archive;

/// <summary>
/// A <see cref="FileHasher"/> on a thread of its own, so that the thread writing an archive or the restored files
/// never waits for SHA-256 (the one pass that cannot be split: a file's hash is sequential). Blocks arrive in file
/// then offset order and are released once hashed; at most <see cref="Capacity"/> wait, so memory stays bounded and a
/// writer faster than the hash waits for it. <c>finished</c> runs on the lane's thread; what it throws (a hash that
/// disagrees with a manifest) comes out of the next <see cref="Append"/> or of <see cref="Complete"/>.
/// </summary>
internal sealed class FileHashLane : IDisposable
{
    /// <summary>Blocks that may wait: enough to ride out the writer's bursts, few enough for chunk buffers.</summary>
    private const int Capacity = 4;

    private readonly FileHasher _hasher;
    private readonly BlockingCollection<(int File, IHashBlock Block)> _queue = new(Capacity);
    private readonly Thread _thread;
    private volatile ExceptionDispatchInfo? _failure;
    private volatile bool _abandoned;
    private bool _disposed;

    public FileHashLane(int fileCount, Action<int, string> finished)
    {
        _hasher = new FileHasher(fileCount, finished);
        _thread = new Thread(Run) { IsBackground = true, Name = "wafer file hash" };
        _thread.Start();
    }

    /// <summary>Queues <paramref name="block"/> of <paramref name="file"/>; the lane owns it from here, also when this throws.</summary>
    public void Append(int file, IHashBlock block)
    {
        if (_failure is { } failure)
        {
            block.Release();
            failure.Throw();
        }

        try
        {
            _queue.Add((file, block));
        }
        catch
        {
            block.Release();
            throw;
        }
    }

    /// <summary>Hashes what is queued, finishes every file (empty ones included) and rethrows the lane's failure, if any.</summary>
    public void Complete()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _failure?.Throw();
        _hasher.Complete();
    }

    /// <summary>Stops the lane (after <see cref="Complete"/>, or abandoning the queued blocks, which are released unhashed).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_queue.IsAddingCompleted)
        {
            _abandoned = true;
            _queue.CompleteAdding();
        }

        _thread.Join();
        _queue.Dispose();
        _hasher.Dispose();
    }

    private void Run()
    {
        foreach ((int file, IHashBlock block) in _queue.GetConsumingEnumerable())
        {
            try
            {
                if (!_abandoned && _failure is null)
                {
                    _hasher.Append(file, block.Data);
                }
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                block.Release();
            }
        }
    }
}
