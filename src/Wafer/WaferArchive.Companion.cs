using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;

namespace Wafer;

public sealed partial class WaferArchive
{
    /// <summary>
    /// For every chunk of a tensor that has a companion: the companion and the byte range of it that covers the
    /// same elements. Keyed by chunk identity: each chunk entry belongs to exactly one tensor.
    /// </summary>
    private Dictionary<ChunkEntry, (TensorEntry Companion, long Offset, int Length)> BuildCompanionRanges()
    {
        var ranges = new Dictionary<ChunkEntry, (TensorEntry, long, int)>(ReferenceEqualityComparer.Instance);

        // A patch's companions are resolved by the patch applier, against the rebuilt target.
        if (_manifest.Kind != "archive")
        {
            return ranges;
        }

        foreach (TensorEntry tensor in _manifest.Tensors)
        {
            if (tensor.Companion is not int index)
            {
                continue;
            }

            TensorEntry companion = _manifest.Tensors[index];
            int width = DTypes.Size(DTypes.Parse(tensor.Dtype));
            int companionWidth = DTypes.Size(DTypes.Parse(companion.Dtype));
            long offset = 0;
            foreach (ChunkEntry chunk in tensor.Chunks)
            {
                ranges[chunk] = (companion, offset / width * companionWidth, checked(chunk.Size / width * companionWidth));
                offset += chunk.Size;
            }
        }

        return ranges;
    }

    /// <summary>
    /// Decodes one chunk of this archive into exactly <paramref name="destination"/>, first decoding the part of
    /// its tensor's companion that the chunk is coded against, if any. Every read path goes through here.
    /// </summary>
    internal void DecodeChunk(ChunkEntry chunk, DType dtype, Span<byte> destination, string what)
    {
        if (!_companionRanges.TryGetValue(chunk, out (TensorEntry Companion, long Offset, int Length) range))
        {
            ChunkDecoder.Decode(_file, chunk, dtype, destination, what);
            return;
        }

        byte[] reference = ArrayPool<byte>.Shared.Rent(Math.Max(1, range.Length));
        try
        {
            ReadRange(range.Companion, range.Offset, reference.AsSpan(0, range.Length));
            ChunkDecoder.Decode(_file, chunk, dtype, reference.AsSpan(0, range.Length), destination, what);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reference);
        }
    }

    /// <summary>Decodes bytes <c>[offset, offset + destination.Length)</c> of a tensor that has no companion itself.</summary>
    private void ReadRange(TensorEntry tensor, long offset, Span<byte> destination)
    {
        DType dtype = DTypes.TryParse(tensor.Dtype, out DType known) ? known : DType.Opaque;
        long end = offset + destination.Length;
        long chunkStart = 0;
        for (int i = 0; i < tensor.Chunks.Count && chunkStart < end; i++)
        {
            ChunkEntry chunk = tensor.Chunks[i];
            long chunkEnd = chunkStart + chunk.Size;
            if (chunkEnd > offset)
            {
                byte[] whole = ArrayPool<byte>.Shared.Rent(chunk.Size);
                try
                {
                    ChunkDecoder.Decode(_file, chunk, dtype, whole.AsSpan(0, chunk.Size), $"tensor '{tensor.Name}' chunk {i}");
                    long from = Math.Max(offset, chunkStart);
                    long to = Math.Min(end, chunkEnd);
                    whole.AsSpan((int)(from - chunkStart), (int)(to - from)).CopyTo(destination[(int)(from - offset)..]);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(whole);
                }
            }

            chunkStart = chunkEnd;
        }
    }
}
