using System.Buffers;
using System.IO.Hashing;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;
using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>
/// One run of <c>diff</c>: matches the target's tensors and files to the base's (<see cref="PatchPlanner"/>),
/// encodes every target chunk against its base bytes in parallel, and writes them in order as a Wafer archive of
/// kind <c>patch</c> whose manifest names every base file and tensor it needs by hash.
/// </summary>
internal sealed class PatchWriter
{
    private readonly ModelSource _base;
    private readonly ModelSource _target;
    private readonly PatchPlanner _plan;
    private readonly PatchOptions _options;

    private PatchWriter(ModelSource baseModel, ModelSource target, PatchPlanner plan, PatchOptions options)
    {
        _base = baseModel;
        _target = target;
        _plan = plan;
        _options = options;
    }

    public static PatchResult Run(string baseModel, string targetModel, string patchPath, PatchOptions options, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        string finalPath = Path.GetFullPath(patchPath);
        if (File.Exists(finalPath) && !options.Overwrite)
        {
            throw new IOException($"{patchPath}: already exists (use --force to replace it).");
        }

        using ModelSource baseSource = ModelSource.Open(baseModel);
        using ModelSource targetSource = ModelSource.Open(targetModel);
        var plan = PatchPlanner.Plan(baseSource, targetSource, options.ChunkSize, options.EffectiveThreads);
        var writer = new PatchWriter(baseSource, targetSource, plan, options);
        using StagedOutput output = StagedOutput.ForFile(finalPath);
        long bytes = writer.Write(output.TemporaryPath, progress, cancellationToken);
        output.Commit(options.Overwrite);
        return new PatchResult(finalPath, bytes, plan.Manifest.Files.Sum(f => f.Size), plan.TensorChanges, plan.FileChanges);
    }

    private long Write(string temporaryPath, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        ManifestDocument manifest = _plan.Manifest;
        List<PatchItem> items = _plan.Items;
        PairCompanions(manifest, items);
        using var writer = new ArchiveWriter(temporaryPath);
        long total = manifest.Files.Sum(f => f.Size);
        long done = 0;
        using var hasher = new FileHasher(manifest.Files.Count, (file, sha256) => manifest.Files[file].Sha256 = sha256);

        // The base files' SHA-256 and XXH3-128 (for the manifest) are the one pass over the base that the encoding does
        // not need. The calling thread does it a piece at a time while it waits for the next encoded chunk, so it takes no
        // thread from the encoders (as a task of its own, it competed with them for the cores).
        using ModelSource.PieceHasher baseHashes = _base.HashInPieces(_plan.BaseFilesNamed);
        OrderedPipeline.Run(
            items.Count,
            _options.EffectiveThreads,
            index => Encode(items[index]),
            (index, encoded) =>
            {
                try
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    PatchItem item = items[index];
                    hasher.Append(item.File, encoded.Buffer.AsSpan(encoded.RawAt, item.Length));
                    ChunkEntry chunk = writer.Add(
                        index,
                        encoded.Buffer.AsSpan(0, encoded.Length),
                        encoded.Codec,
                        item.Length,
                        item.DType,
                        encoded.Xxh3,
                        (earlier, first) => first.Codec == encoded.Codec.Name && SameTargetBytes(items[earlier], encoded.Buffer.AsSpan(encoded.RawAt, item.Length)));
                    item.Chunks.Add(chunk);
                    done += item.Length;
                    progress?.Report(new WaferProgress(done, total, manifest.Files[item.File].Path));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(encoded.Buffer);
                }
            },
            encoded => ArrayPool<byte>.Shared.Return(encoded.Buffer),
            baseHashes.Step,
            cancellationToken);

        while (baseHashes.Step())
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        _plan.HashBaseFiles(cancellationToken);
        hasher.Complete();
        _plan.SettleFileChanges();
        CompanionPairing.Settle(manifest.Tensors);
        return writer.Finish(manifest);
    }

    /// <summary>
    /// Standalone codecs are deterministic, so two chunks share a payload when their target bytes are equal: the
    /// checksum only nominates the candidate, the bytes decide.
    /// </summary>
    private bool SameTargetBytes(PatchItem first, ReadOnlySpan<byte> raw)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Max(1, first.Length));
        try
        {
            return first.Length == raw.Length && _target.Read(first.File, first.Offset, first.Length, scratch).SequenceEqual(raw);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private EncodedChunk Encode(PatchItem item)
    {
        // Layout of the rented buffer: [payload room: 2 × length + slack][target copy][base copy][base region copy]
        // [base elements of another dtype, before their conversion into the base copy].
        int room = (2 * item.Length) + CodecSelector.Slack;
        int alignedLength = item.AlignedOffset >= 0 ? item.Length : 0;
        int unconverted = alignedLength > 0 && item.ConvertsBase ? item.BaseLength : 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(room + item.Length + alignedLength + item.RegionLength + unconverted);
        try
        {
            // Each range is read straight into its place in the one buffer: no intermediate copies.
            Span<byte> rawCopy = buffer.AsSpan(room, item.Length);
            _target.Read(item.File, item.Offset, rawCopy);
            ReadOnlySpan<byte> aligned = default;
            if (alignedLength > 0)
            {
                Span<byte> alignedCopy = buffer.AsSpan(room + item.Length, alignedLength);
                if (unconverted > 0)
                {
                    Span<byte> baseElements = buffer.AsSpan(room + item.Length + alignedLength + item.RegionLength, unconverted);
                    _base.Read(item.BaseFile, item.AlignedOffset, baseElements);
                    BaseConversion.Convert(baseElements, item.BaseDType, alignedCopy, item.DType);
                }
                else
                {
                    _base.Read(item.BaseFile, item.AlignedOffset, alignedCopy);
                }

                aligned = alignedCopy;
            }

            ReadOnlySpan<byte> region = default;
            if (item.RegionLength > 0)
            {
                Span<byte> regionCopy = buffer.AsSpan(room + item.Length + alignedLength, item.RegionLength);
                _base.Read(item.BaseFile, item.RegionOffset, regionCopy);
                region = regionCopy;
            }

            (ChunkCodec codec, int length) = item.IsTensor && alignedLength > 0
                ? DeltaCodecSelector.EncodeTensor(rawCopy, aligned, item.DType, buffer.AsSpan(0, room), item.RowLength, item.FirstColumn)
                : item.IsTensor || (alignedLength == 0 && region.IsEmpty)
                    ? CodecSelector.Encode(rawCopy, item.DType, CodecChoice.Auto, buffer.AsSpan(0, room), item.RowLength, item.FirstColumn)
                    : DeltaCodecSelector.EncodeBytes(rawCopy, aligned, region, buffer.AsSpan(0, room));
            if (item.CompanionLength > 0)
            {
                (codec, length) = TryCompanion(item, rawCopy, buffer.AsSpan(0, room), codec, length);
            }

            return new EncodedChunk(buffer, length, room, codec, XxHash3.HashToUInt64(rawCopy));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Lets each F32 target tensor with a BF16 twin in the target (master weights) be coded against the twin.</summary>
    private static void PairCompanions(ManifestDocument manifest, List<PatchItem> items)
    {
        var paired = CompanionPairing.Pair(manifest.Tensors);
        for (int k = 0; k < items.Count && paired.Count > 0; k++)
        {
            if (items[k].IsTensor && paired.TryGetValue(items[k].Chunks, out (TensorEntry Tensor, TensorEntry Companion) pair))
            {
                (long offset, int length) = CompanionPairing.Opposite(pair.Tensor, pair.Companion, items[k].Offset, items[k].Length);
                items[k] = items[k] with { CompanionFile = pair.Companion.File, CompanionOffset = offset, CompanionLength = length };
            }
        }
    }

    /// <summary>Codes the chunk against the target's BF16 twin instead when that payload is smaller.</summary>
    private (ChunkCodec Codec, int Length) TryCompanion(PatchItem item, ReadOnlySpan<byte> raw, Span<byte> destination, ChunkCodec codec, int length)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(item.CompanionLength);
        byte[] candidate = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            ReadOnlySpan<byte> twin = _target.Read(item.CompanionFile, item.CompanionOffset, item.CompanionLength, scratch);
            int written = F32Bf16ResidualCodec.Instance.Encode(raw, new ChunkContext(item.DType, twin), candidate.AsSpan(0, destination.Length));
            if (written < 0 || written >= length)
            {
                return (codec, length);
            }

            candidate.AsSpan(0, written).CopyTo(destination);
            return (F32Bf16ResidualCodec.Instance, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(candidate);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private readonly record struct EncodedChunk(byte[] Buffer, int Length, int RawAt, ChunkCodec Codec, ulong Xxh3);
}
