using System.Buffers;

namespace Wafer.Codecs;

/// <summary>
/// A mostly-zero chunk (pruned weights, untouched optimizer rows): a bitmap of the non-zero elements, rANS-coded,
/// then the non-zero elements packed together and coded by float-split (float dtypes) or zstd. An element is zero
/// when all its bytes are zero, so -0.0 is a non-zero value and round-trips. Layout in docs/CODECS.md.
/// </summary>
internal sealed class SparseCodec : ChunkCodec
{
    public static readonly SparseCodec Instance = new();

    private const byte Version = 2;

    /// <summary>How the packed non-zero elements are coded.</summary>
    private const byte InnerRaw = 0;
    private const byte InnerFloatSplit = 1;
    private const byte InnerZstd = 2;

    public override string Name => "sparse";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (source.Length == 0 || source.Length % size != 0)
        {
            return -1;
        }

        int n = source.Length / size;
        int bitmapBytes = ZeroBitmap.Bytes(n);
        byte[] bitmap = ArrayPool<byte>.Shared.Rent(bitmapBytes);
        byte[] packed = ArrayPool<byte>.Shared.Rent(source.Length);
        try
        {
            Span<byte> map = bitmap.AsSpan(0, bitmapBytes);
            map.Clear();
            int nonzero = 0;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<byte> element = source.Slice(i * size, size);
                if (element.ContainsAnyExcept((byte)0))
                {
                    map[i >> 3] |= (byte)(1 << (i & 7));
                    element.CopyTo(packed.AsSpan(nonzero * size));
                    nonzero++;
                }
            }

            int pos = 0;
            if (destination.Length < 16)
            {
                return -1;
            }

            destination[pos++] = Version;
            if (!ZeroBitmap.TryWrite(destination, ref pos, n, nonzero, map) || destination.Length - pos < 2)
            {
                return -1;
            }

            ReadOnlySpan<byte> values = packed.AsSpan(0, nonzero * size);
            int innerAt = pos + 1;
            Span<byte> inner = destination[innerAt..];
            int written = -1;
            byte kind = InnerRaw;
            if (DTypes.IsFloat(context.DType) && nonzero > 0)
            {
                written = FloatSplitCodec.Instance.Encode(values, context, inner);
                kind = InnerFloatSplit;
            }

            if (written < 0 && nonzero > 0)
            {
                written = ZstdCodec.Instance.Encode(values, context, inner);
                kind = InnerZstd;
            }

            if (written < 0 || written >= values.Length)
            {
                if (!values.TryCopyTo(inner))
                {
                    return -1;
                }

                written = values.Length;
                kind = InnerRaw;
            }

            destination[pos] = kind;
            return innerAt + written;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bitmap);
            ArrayPool<byte>.Shared.Return(packed);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (destination.Length % size != 0)
        {
            throw new WaferDataException($"sparse chunk of {destination.Length} bytes is not a whole number of {size}-byte elements");
        }

        if (source.Length < 1 || source[0] != Version)
        {
            throw new WaferDataException(source.Length < 1 ? "sparse payload is empty" : $"sparse payload has unknown version {source[0]}");
        }

        int n = destination.Length / size;
        int pos = 1;
        byte[] bitmap = ArrayPool<byte>.Shared.Rent(ZeroBitmap.Bytes(n));
        byte[]? packed = null;
        try
        {
            Span<byte> map = bitmap.AsSpan(0, ZeroBitmap.Bytes(n));
            int nonzero = ZeroBitmap.Read(source, ref pos, n, map, Name);
            packed = ArrayPool<byte>.Shared.Rent(Math.Max(1, nonzero * size));
            if (pos >= source.Length)
            {
                throw new WaferDataException("sparse payload ends before its values");
            }

            byte kind = source[pos++];
            ReadOnlySpan<byte> inner = source[pos..];
            Span<byte> values = packed.AsSpan(0, nonzero * size);
            switch (kind)
            {
                case InnerRaw:
                    if (inner.Length != values.Length)
                    {
                        throw new WaferDataException($"sparse raw values are {inner.Length} bytes, expected {values.Length}");
                    }

                    inner.CopyTo(values);
                    break;
                case InnerFloatSplit when DTypes.IsFloat(context.DType):
                    FloatSplitCodec.Instance.Decode(inner, context, values);
                    break;
                case InnerZstd:
                    ZstdCodec.Decompress(inner, values);
                    break;
                default:
                    throw new WaferDataException($"sparse payload names unknown value coding {kind} for dtype {DTypes.Name(context.DType)}");
            }

            int next = 0;
            for (int i = 0; i < n; i++)
            {
                Span<byte> element = destination.Slice(i * size, size);
                if (ZeroBitmap.IsSet(map, i))
                {
                    values.Slice(next * size, size).CopyTo(element);
                    next++;
                }
                else
                {
                    element.Clear();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bitmap);
            if (packed is not null)
            {
                ArrayPool<byte>.Shared.Return(packed);
            }
        }
    }
}
