using System.Buffers;
using Wafer.Codecs;
using Wafer.Codecs.Kernels;

namespace Wafer.Delta;

/// <summary>
/// <c>delta-sparse</c>: a pruned copy of its base (half its weights or more set to zero, as 2:4 or magnitude pruning
/// leaves them, the rest kept or slightly moved). The zeros are a bitmap, as in <c>sparse</c>; the non-zero elements
/// are one <c>delta-ord</c> payload against the base elements at the same places. A 2:4-pruned BF16 chunk whose kept
/// weights did not move costs its bitmap (under a bit per element), where <c>delta-ord</c> pays for every zeroed
/// weight's distance from its base value and <c>sparse</c> for every kept weight. Payload in docs/PATCH.md.
/// </summary>
internal sealed class SparseDeltaCodec : ChunkCodec
{
    public static readonly SparseDeltaCodec Instance = new();

    private const byte Version = 1;

    public override string Name => "delta-sparse";

    public override bool NeedsReference => true;

    /// <summary>Whether the codec may pay on the chunk: a float chunk with at least half of its elements zero.</summary>
    public static bool Suits(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype)
    {
        int size = DTypes.Size(dtype);
        return FloatFields.TryGet(dtype, out _) && !target.IsEmpty && target.Length == reference.Length && target.Length % size == 0
            && ChunkKernels.CountZeroElements(target, size) * 2 >= target.Length / size;
    }

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ReadOnlySpan<byte> reference = context.Reference;
        int size = DTypes.Size(context.DType);
        if (!FloatFields.TryGet(context.DType, out _) || source.IsEmpty || source.Length % size != 0 || reference.Length != source.Length || destination.Length < 16)
        {
            return -1;
        }

        int n = source.Length / size;
        int bitmapBytes = ZeroBitmap.Bytes(n);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bitmapBytes + (2 * source.Length));
        try
        {
            Span<byte> map = buffer.AsSpan(0, bitmapBytes);
            Span<byte> values = buffer.AsSpan(bitmapBytes, source.Length);
            Span<byte> bases = buffer.AsSpan(bitmapBytes + source.Length, source.Length);
            int nonzero = Gather(source, reference, size, map, values, bases);
            int pos = 0;
            destination[pos++] = Version;
            if (!ZeroBitmap.TryWrite(destination, ref pos, n, nonzero, map))
            {
                return -1;
            }

            if (nonzero == 0)
            {
                return pos;
            }

            int written = OrderedDeltaCodec.Instance.Encode(values[..(nonzero * size)], new ChunkContext(context.DType, bases[..(nonzero * size)]), destination[pos..]);
            return written < 0 ? -1 : pos + written;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ReadOnlySpan<byte> reference = context.Reference;
        int size = DTypes.Size(context.DType);
        if (!FloatFields.TryGet(context.DType, out _) || destination.Length % size != 0)
        {
            throw new WaferDataException($"delta-sparse does not code a {destination.Length}-byte chunk of {DTypes.Name(context.DType)} elements");
        }

        if (reference.Length != destination.Length)
        {
            throw new WaferDataException($"delta-sparse needs a base chunk of {destination.Length} bytes, got {reference.Length}");
        }

        if (source.Length < 1 || source[0] != Version)
        {
            throw new WaferDataException(source.Length < 1 ? "delta-sparse payload is empty" : $"delta-sparse payload has unknown version {source[0]}");
        }

        int n = destination.Length / size;
        int pos = 1;
        int bitmapBytes = ZeroBitmap.Bytes(n);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(bitmapBytes + (2 * destination.Length));
        try
        {
            Span<byte> map = buffer.AsSpan(0, bitmapBytes);
            int nonzero = ZeroBitmap.Read(source, ref pos, n, map, Name);
            Span<byte> values = buffer.AsSpan(bitmapBytes, nonzero * size);
            Span<byte> bases = buffer.AsSpan(bitmapBytes + (nonzero * size), nonzero * size);
            int next = 0;
            for (int i = 0; i < n; i++)
            {
                if (ZeroBitmap.IsSet(map, i))
                {
                    reference.Slice(i * size, size).CopyTo(bases[(next++ * size)..]);
                }
            }

            if (nonzero == 0)
            {
                if (pos != source.Length)
                {
                    throw new WaferDataException($"delta-sparse payload has {source.Length - pos} bytes after an all-zero bitmap");
                }
            }
            else
            {
                OrderedDeltaCodec.Instance.Decode(source[pos..], new ChunkContext(context.DType, bases), values);
            }

            next = 0;
            for (int i = 0; i < n; i++)
            {
                Span<byte> element = destination.Slice(i * size, size);
                if (ZeroBitmap.IsSet(map, i))
                {
                    values.Slice(next++ * size, size).CopyTo(element);
                }
                else
                {
                    element.Clear();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Marks the non-zero target elements in <paramref name="map"/> and packs them and their base elements; returns how many.</summary>
    private static int Gather(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, int size, Span<byte> map, Span<byte> values, Span<byte> bases)
    {
        map.Clear();
        int nonzero = 0;
        for (int i = 0; i < target.Length / size; i++)
        {
            ReadOnlySpan<byte> element = target.Slice(i * size, size);
            if (element.ContainsAnyExcept((byte)0))
            {
                map[i >> 3] |= (byte)(1 << (i & 7));
                element.CopyTo(values[(nonzero * size)..]);
                reference.Slice(i * size, size).CopyTo(bases[(nonzero * size)..]);
                nonzero++;
            }
        }

        return nonzero;
    }
}
