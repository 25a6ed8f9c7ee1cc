using System.Buffers;
using System.IO.Hashing;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;
using Wafer.Layout;

namespace Wafer.Archive;

/// <summary>
/// One run of <c>pack</c>: opens the source files, splits them into chunks, reads and encodes the chunks in parallel
/// and writes them in order, deduplicating identical chunks, then appends the manifest and trailer.
/// </summary>
internal sealed class PackJob : IDisposable
{
    private readonly PackOptions _options;
    private readonly List<PositionedFile> _files = [];
    private readonly ManifestDocument _manifest;
    private readonly List<PackItem> _items = [];

    private PackJob(PackOptions options)
    {
        _options = options;
        _manifest = new ManifestDocument
        {
            Wafer = ArchiveFormat.ManifestSchema,
            Kind = "archive",
            ChunkSize = options.ChunkSize,
            Info = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["writer"] = $"wafer {typeof(PackJob).Assembly.GetName().Version?.ToString(3)}",
                ["codec"] = options.Codec.ToString().ToLowerInvariant(),
            },
        };
    }

    public static PackResult Run(string source, string archivePath, PackOptions options, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        string finalPath = Path.GetFullPath(archivePath);
        if (File.Exists(finalPath) && !options.Overwrite)
        {
            throw new IOException($"{archivePath}: already exists (use --force to replace it).");
        }

        using var job = new PackJob(options);
        job.Plan(source, finalPath);
        using StagedOutput output = StagedOutput.ForFile(finalPath);
        (long archiveBytes, int deduplicated) = job.Write(output.TemporaryPath, progress, cancellationToken);
        output.Commit(options.Overwrite);
        return new PackResult(finalPath, job._manifest.Files.Count, job._manifest.Tensors.Count, job._manifest.Files.Sum(f => f.Size), archiveBytes, deduplicated);
    }

    private void Plan(string source, string exclude)
    {
        foreach ((string relative, string fullPath) in SourceTree.Enumerate(source, exclude))
        {
            PositionedFile file = PositionedFile.Open(fullPath);
            _files.Add(file);
            FileLayout layout = file.Length == 0 ? FileLayout.Blob(relative, 0) : FileLayoutDetector.Detect(relative, file.Handle, file.Length);
            int fileIndex = _manifest.Files.Count;
            _manifest.Files.Add(new FileEntry { Path = relative, Size = file.Length, Format = layout.Format });
            foreach (LayoutSegment segment in layout.Segments)
            {
                List<ChunkEntry> chunks = [];
                DType dtype = DType.Opaque;
                if (segment.Tensor is TensorDescriptor tensor)
                {
                    dtype = tensor.DType;
                    _manifest.Tensors.Add(new TensorEntry
                    {
                        Name = tensor.Name,
                        Dtype = tensor.DTypeName,
                        Shape = tensor.Shape,
                        File = fileIndex,
                        Offset = segment.Offset,
                        Size = segment.Length,
                        Chunks = chunks,
                    });
                }
                else
                {
                    _manifest.Blobs.Add(new BlobEntry { File = fileIndex, Offset = segment.Offset, Size = segment.Length, Chunks = chunks });
                }

                for (long at = 0; at < segment.Length; at += _options.ChunkSize)
                {
                    int length = (int)Math.Min(_options.ChunkSize, segment.Length - at);
                    (int rowLength, int firstColumn) = segment.Tensor?.RowGeometry(at) ?? (0, 0);
                    _items.Add(new PackItem(fileIndex, segment.Offset + at, length, dtype, chunks, rowLength, firstColumn));
                }
            }
        }

        if (_options.Codec == CodecChoice.Auto)
        {
            PairCompanions();
        }
    }

    /// <summary>Lets each F32 tensor with a BF16 twin (master weights) be coded against the twin's bytes.</summary>
    private void PairCompanions()
    {
        var paired = CompanionPairing.Pair(_manifest.Tensors);
        for (int k = 0; k < _items.Count && paired.Count > 0; k++)
        {
            if (paired.TryGetValue(_items[k].Chunks, out (TensorEntry Tensor, TensorEntry Companion) pair))
            {
                (long offset, int length) = CompanionPairing.Opposite(pair.Tensor, pair.Companion, _items[k].Offset, _items[k].Length);
                _items[k] = _items[k] with { CompanionFile = pair.Companion.File, CompanionOffset = offset, CompanionLength = length };
            }
        }
    }

    private (long ArchiveBytes, int Deduplicated) Write(string temporaryPath, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        using var writer = new ArchiveWriter(temporaryPath);
        long total = _manifest.Files.Sum(f => f.Size);
        long done = 0;
        using var hasher = new FileHashLane(_manifest.Files.Count, (file, sha256) => _manifest.Files[file].Sha256 = sha256);

        OrderedPipeline.Run(
            _items.Count,
            _options.EffectiveThreads,
            index => Encode(_items[index]),
            (index, encoded) =>
            {
                PooledHashBlock? raw = encoded.Raw;
                try
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    PackItem item = _items[index];
                    item.Chunks.Add(writer.Add(index, encoded.Buffer.AsSpan(0, encoded.Length), encoded.Codec, item.Length, item.DType, encoded.Xxh3, (earlier, _) => SameBytes(encoded.Raw.Data, _items[earlier])));

                    // The lane owns the source bytes from here and returns their buffer once hashed.
                    raw = null;
                    hasher.Append(item.File, encoded.Raw);
                    done += item.Length;
                    progress?.Report(new WaferProgress(done, total, _manifest.Files[item.File].Path));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(encoded.Buffer);
                    raw?.Release();
                }
            },
            Release,
            whileWaiting: null,
            cancellationToken);

        hasher.Complete();
        CompanionPairing.Settle(_manifest.Tensors);
        return (writer.Finish(_manifest), writer.Deduplicated);
    }

    /// <summary>
    /// Reads one chunk into a pooled buffer and encodes it; the result keeps those source bytes, which the writer
    /// compares from and the hash lane hashes. Positioned reads, not a mapped view per chunk: in this VM a view's page
    /// faults and its unmap's TLB flush cost several times the copy.
    /// </summary>
    private EncodedChunk Encode(PackItem item)
    {
        byte[] source = ArrayPool<byte>.Shared.Rent(Math.Max(1, item.Length));
        byte[]? buffer = null;
        try
        {
            _files[item.File].Read(item.Offset, source.AsSpan(0, item.Length));
            ReadOnlySpan<byte> raw = source.AsSpan(0, item.Length);
            buffer = ArrayPool<byte>.Shared.Rent(item.Length + CodecSelector.Slack);
            (ChunkCodec codec, int length) = CodecSelector.Encode(raw, item.DType, _options.Codec, buffer, item.RowLength, item.FirstColumn);
            if (item.CompanionLength > 0)
            {
                (codec, length) = TryCompanion(item, raw, ref buffer, codec, length);
            }

            return new EncodedChunk(buffer, length, codec, XxHash3.HashToUInt64(raw), new PooledHashBlock(source, item.Length));
        }
        catch
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            ArrayPool<byte>.Shared.Return(source);
            throw;
        }
    }

    private static void Release(EncodedChunk encoded)
    {
        ArrayPool<byte>.Shared.Return(encoded.Buffer);
        encoded.Raw.Release();
    }

    /// <summary>Codes the chunk against its companion's bytes and keeps that payload when it is the smaller one.</summary>
    private (ChunkCodec Codec, int Length) TryCompanion(PackItem item, ReadOnlySpan<byte> raw, ref byte[] buffer, ChunkCodec codec, int length)
    {
        byte[] reference = ArrayPool<byte>.Shared.Rent(item.CompanionLength);
        byte[] candidate = ArrayPool<byte>.Shared.Rent(item.Length + CodecSelector.Slack);
        int written;
        try
        {
            _files[item.CompanionFile].Read(item.CompanionOffset, reference.AsSpan(0, item.CompanionLength));
            written = F32Bf16ResidualCodec.Instance.Encode(raw, new ChunkContext(item.DType, reference.AsSpan(0, item.CompanionLength)), candidate);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(candidate);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reference);
        }

        if (written < 0 || written >= length)
        {
            ArrayPool<byte>.Shared.Return(candidate);
            return (codec, length);
        }

        ArrayPool<byte>.Shared.Return(buffer);
        buffer = candidate;
        return (F32Bf16ResidualCodec.Instance, written);
    }

    /// <summary>Byte comparison that makes deduplication safe even against crafted hash collisions.</summary>
    private bool SameBytes(ReadOnlySpan<byte> raw, PackItem earlier)
    {
        byte[] bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, raw.Length));
        try
        {
            _files[earlier.File].Read(earlier.Offset, bytes.AsSpan(0, raw.Length));
            return raw.SequenceEqual(bytes.AsSpan(0, raw.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    public void Dispose()
    {
        foreach (PositionedFile file in _files)
        {
            file.Dispose();
        }
    }

    /// <summary>One chunk to encode; <c>CompanionLength</c> &gt; 0 when its tensor has a companion whose bytes it may be coded against.</summary>
    private readonly record struct PackItem(int File, long Offset, int Length, DType DType, List<ChunkEntry> Chunks, int RowLength = 0, int FirstColumn = 0, int CompanionFile = 0, long CompanionOffset = 0, int CompanionLength = 0);

    /// <summary>A chunk's payload and its source bytes, both in pooled buffers, read once for the encoder, the writer and the hash lane.</summary>
    private readonly record struct EncodedChunk(byte[] Buffer, int Length, ChunkCodec Codec, ulong Xxh3, PooledHashBlock Raw);
}
