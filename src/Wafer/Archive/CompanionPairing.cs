using System.Buffers;
using Wafer.Archive.Manifest;
using Wafer.Codecs;

namespace Wafer.Archive;

/// <summary>
/// Finds companions: an F32 tensor and a same-named BF16 tensor with as many elements, as mixed-precision
/// training stores master weights beside the model weights rounded from them. Shared by pack and diff.
/// </summary>
internal static class CompanionPairing
{
    /// <summary>Sets <see cref="TensorEntry.Companion"/> on every F32 tensor that has a BF16 twin; returns the pairs.</summary>
    public static Dictionary<List<ChunkEntry>, (TensorEntry Tensor, TensorEntry Companion)> Pair(List<TensorEntry> tensors)
    {
        var bf16 = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++)
        {
            if (tensors[i].Dtype == "BF16")
            {
                bf16.TryAdd(tensors[i].Name, i);
            }
        }

        var paired = new Dictionary<List<ChunkEntry>, (TensorEntry, TensorEntry)>(ReferenceEqualityComparer.Instance);
        foreach (TensorEntry tensor in tensors)
        {
            if (tensor.Dtype == "F32" && tensor.Size > 0 && bf16.TryGetValue(tensor.Name, out int index) && tensors[index].Size * 2 == tensor.Size)
            {
                tensor.Companion = index;
                paired[tensor.Chunks] = (tensor, tensors[index]);
            }
        }

        return paired;
    }

    /// <summary>Where, in the companion's file, the bytes opposite a chunk of the tensor at <paramref name="chunkOffset"/> lie.</summary>
    public static (long Offset, int Length) Opposite(TensorEntry tensor, TensorEntry companion, long chunkOffset, int chunkLength) =>
        (companion.Offset + ((chunkOffset - tensor.Offset) / 2), chunkLength / 2);

    /// <summary>For every chunk of a tensor with a companion: the companion and the byte range of it opposite the chunk.</summary>
    public static Dictionary<ChunkEntry, (TensorEntry Companion, long Offset, int Length)> ChunkRanges(List<TensorEntry> tensors)
    {
        var ranges = new Dictionary<ChunkEntry, (TensorEntry, long, int)>(ReferenceEqualityComparer.Instance);
        foreach (TensorEntry tensor in tensors)
        {
            if (tensor.Companion is not int index)
            {
                continue;
            }

            TensorEntry companion = tensors[index];
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
    /// Copies bytes <c>[offset, offset + destination.Length)</c> of a chunked entry into <paramref name="destination"/>;
    /// <paramref name="decode"/> returns chunk <c>i</c> decoded into a pooled buffer, which is returned here.
    /// </summary>
    public static void ReadRange(List<ChunkEntry> chunks, long offset, Span<byte> destination, Func<int, byte[]> decode)
    {
        long end = offset + destination.Length;
        long chunkStart = 0;
        for (int i = 0; i < chunks.Count && chunkStart < end; i++)
        {
            long chunkEnd = chunkStart + chunks[i].Size;
            if (chunkEnd > offset)
            {
                byte[] decoded = decode(i);
                try
                {
                    long from = Math.Max(offset, chunkStart);
                    long to = Math.Min(end, chunkEnd);
                    decoded.AsSpan((int)(from - chunkStart), (int)(to - from)).CopyTo(destination[(int)(from - offset)..]);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(decoded);
                }
            }

            chunkStart = chunkEnd;
        }
    }

    /// <summary>Drops the companion of every tensor none of whose chunks was coded against it, so readers need not decode it.</summary>
    public static void Settle(List<TensorEntry> tensors)
    {
        foreach (TensorEntry tensor in tensors)
        {
            if (tensor.Companion is not null && !tensor.Chunks.Exists(c => c.Codec == F32Bf16ResidualCodec.Instance.Name))
            {
                tensor.Companion = null;
            }
        }
    }
}
