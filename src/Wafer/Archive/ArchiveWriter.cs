using System.IO.Hashing;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Wafer.Archive.Manifest;
using Wafer.Codecs;

namespace Wafer.Archive;

/// <summary>
/// Writes the container of docs/FORMAT.md: the preamble, chunk payloads at 64-byte alignment (a chunk whose
/// decoded bytes equal an earlier one's points at that payload instead), then the manifest and trailer.
/// Used by pack and diff, so archives and patches share one layout.
/// </summary>
internal sealed class ArchiveWriter : IDisposable
{
    /// <summary>
    /// The least bytes written between two background flushes; later steps grow to an eighth of what is already
    /// flushed, so a large archive gets a few dozen flushes and its last one covers about an eighth of the file.
    /// The file is pushed to disk step by step while later chunks are still being encoded, and the flush that ends
    /// <see cref="Finish"/> waits for the tail only: on the development VM, the final fsync of a 700 MB archive took
    /// 0.41 s when it was the only one, 0.013 s behind flushes every 64 MiB.
    /// </summary>
    private const long MinFlushStep = 4 << 20;

    private static readonly byte[] s_zeros = new byte[ArchiveFormat.Alignment];

    private readonly FileStream _output;
    private readonly SafeFileHandle _handle;
    private readonly long _flushStep;
    private readonly Dictionary<(ulong Hash, int Length, DType DType), (int Item, ChunkEntry Chunk)> _firstByContent = [];
    private long _position;
    private long _flushRequestedAt;
    private Task? _flush;

    /// <summary>Creates <paramref name="path"/> (which must not exist) and writes the preamble.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="flushStep">The least bytes between background flushes (tests make it small).</param>
    public ArchiveWriter(string path, long flushStep = MinFlushStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flushStep);
        _flushStep = flushStep;
        // Readers may open the file while it grows: a writer confirming a duplicate re-reads earlier bytes.
        _output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);

        // Taken once, before any write: exposing the handle flushes the stream's buffer and syncs its offset.
        _handle = _output.SafeFileHandle;
        Span<byte> preamble = stackalloc byte[ArchiveFormat.PreambleLength];
        ArchiveFormat.WritePreamble(preamble);
        _output.Write(preamble);
        _position = ArchiveFormat.PreambleLength;
    }

    /// <summary>Chunks that pointed at an earlier payload instead of storing their own.</summary>
    public int Deduplicated { get; private set; }

    /// <summary>
    /// Stores one chunk's payload, or reuses an earlier chunk's when the decoded checksum, size and dtype match and
    /// <paramref name="confirm"/> (given the earlier item and its entry) agrees byte for byte. Chunks coded against a
    /// reference decode only with that reference, so they are never shared in either direction.
    /// </summary>
    public ChunkEntry Add(int item, ReadOnlySpan<byte> payload, ChunkCodec codec, int size, DType dtype, ulong xxh3, Func<int, ChunkEntry, bool> confirm)
    {
        var key = (xxh3, size, dtype);
        if (!codec.NeedsReference && _firstByContent.TryGetValue(key, out (int Item, ChunkEntry Chunk) first) && confirm(first.Item, first.Chunk))
        {
            Deduplicated++;
            return new ChunkEntry { At = first.Chunk.At, Stored = first.Chunk.Stored, Size = size, Codec = first.Chunk.Codec, Xxh3 = first.Chunk.Xxh3 };
        }

        if (!payload.IsEmpty)
        {
            Pad();
        }

        _output.Write(payload);
        var chunk = new ChunkEntry { At = _position, Stored = payload.Length, Size = size, Codec = codec.Name, Xxh3 = xxh3.ToString("x16") };
        _position += payload.Length;
        FlushBehind();
        if (!codec.NeedsReference)
        {
            _firstByContent.TryAdd(key, (item, chunk));
        }

        return chunk;
    }

    /// <summary>Writes the manifest and trailer and flushes to disk; returns the file's length.</summary>
    public long Finish(ManifestDocument manifest)
    {
        Pad();
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.ManifestDocument);
        if (json.Length > ArchiveFormat.MaxManifestLength)
        {
            throw new InvalidOperationException($"The manifest has {json.Length} bytes of JSON, above the {ArchiveFormat.MaxManifestLength} a reader accepts.");
        }

        byte[] stored = ArchiveFormat.CompressManifest(json);
        _output.Write(stored);
        Span<byte> trailer = stackalloc byte[ArchiveFormat.TrailerLength];
        ArchiveFormat.WriteTrailer(trailer, _position, stored.Length, XxHash3.HashToUInt64(stored), json.Length);
        _output.Write(trailer);
        _flush?.GetAwaiter().GetResult();
        _output.Flush(flushToDisk: true);
        return _output.Length;
    }

    public void Dispose()
    {
        try
        {
            // A failed write is being abandoned; the flush's own error, if any, says nothing new.
            _flush?.Wait();
        }
        catch (AggregateException)
        {
        }

        _output.Dispose();
    }

    /// <summary>
    /// Starts flushing what is written so far to disk on a thread of its own once a step's bytes have accumulated
    /// (see <see cref="MinFlushStep"/>) and the previous flush has ended (its error, if any, surfaces here).
    /// </summary>
    private void FlushBehind()
    {
        if (_position - _flushRequestedAt < Math.Max(_flushStep, _flushRequestedAt / 8) || _flush is { IsCompleted: false })
        {
            return;
        }

        _flush?.GetAwaiter().GetResult();
        _output.Flush(flushToDisk: false);
        _flushRequestedAt = _position;
        SafeFileHandle handle = _handle;
        _flush = Task.Factory.StartNew(() => RandomAccess.FlushToDisk(handle), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Pad()
    {
        int padding = ArchiveFormat.PaddingAfter(_position);
        _output.Write(s_zeros, 0, padding);
        _position += padding;
    }
}
