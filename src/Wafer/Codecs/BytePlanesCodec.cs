using System.Buffers;

namespace Wafer.Codecs;

/// <summary>
/// Multi-byte integers: the bytes are regrouped into planes (byte 0 of every element, then byte 1, ...), so the
/// near-constant high bytes form long runs, and the planes are zstd-coded as one frame. Layout in docs/CODECS.md.
/// </summary>
internal sealed class BytePlanesCodec : ChunkCodec
{
    public static readonly BytePlanesCodec Instance = new();

    public override string Name => "byte-planes";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (size == 1 || source.Length % size != 0)
        {
            return -1;
        }

        byte[] planes = ArrayPool<byte>.Shared.Rent(source.Length);
        try
        {
            Split(source, planes.AsSpan(0, source.Length), size);
            return ZstdCodec.Instance.Encode(planes.AsSpan(0, source.Length), context, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(planes);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (size == 1 || destination.Length % size != 0)
        {
            throw new WaferDataException($"byte-planes chunk of {destination.Length} bytes does not hold whole elements of {DTypes.Name(context.DType)}");
        }

        byte[] planes = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            ZstdCodec.Decompress(source, planes.AsSpan(0, destination.Length));
            Merge(planes.AsSpan(0, destination.Length), destination, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(planes);
        }
    }

    /// <summary>Element-major to plane-major.</summary>
    internal static void Split(ReadOnlySpan<byte> source, Span<byte> planes, int size)
    {
        int n = source.Length / size;
        for (int b = 0; b < size; b++)
        {
            Span<byte> plane = planes.Slice(b * n, n);
            for (int i = 0; i < n; i++)
            {
                plane[i] = source[(i * size) + b];
            }
        }
    }

    /// <summary>Plane-major back to element-major.</summary>
    internal static void Merge(ReadOnlySpan<byte> planes, Span<byte> destination, int size)
    {
        int n = destination.Length / size;
        for (int b = 0; b < size; b++)
        {
            ReadOnlySpan<byte> plane = planes.Slice(b * n, n);
            for (int i = 0; i < n; i++)
            {
                destination[(i * size) + b] = plane[i];
            }
        }
    }
}
