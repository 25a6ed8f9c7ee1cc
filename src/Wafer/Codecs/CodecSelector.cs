using System.Buffers;
using System.Buffers.Binary;
using Wafer.Codecs.Kernels;

namespace Wafer.Codecs;

/// <summary>
/// Picks and runs the codec for one chunk. Deterministic: the choice depends only on the chunk's bytes, its
/// dtype and the <see cref="CodecChoice"/>. Never returns a payload larger than the raw chunk.
/// </summary>
/// <remarks>
/// <see cref="CodecChoice.Auto"/> decides from cheap whole-chunk scans (constant, share of zero elements, distinct
/// values in a sample) which few codecs can win, runs only those and keeps the smallest payload: float-split for
/// float data, palette when the sample has at most 256 distinct values, sparse when at least half the elements are
/// zero, byte-planes and zstd for integers, zstd for everything else, raw when nothing is smaller.
/// </remarks>
internal static class CodecSelector
{
    /// <summary>Bytes a destination buffer needs beyond the raw size so that any codec's worst case fits.</summary>
    public const int Slack = 1024;

    /// <summary>Elements sampled when estimating whether a chunk has few distinct values.</summary>
    private const int PaletteSample = 4096;

    /// <summary>
    /// Elements sampled when estimating whether a chunk may be half zero. Each sample is a cache miss in a chunk not
    /// yet read; a thousand tell 40% from 50% well enough (the estimate only decides whether to count exactly).
    /// </summary>
    private const int ZeroSample = 1024;

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (at least source + <see cref="Slack"/> bytes).</summary>
    /// <param name="rowLength">Elements per row of the chunk's tensor (its last dimension), or 0 when unknown.</param>
    /// <param name="firstColumn">The column of the chunk's first element.</param>
    /// <returns>The codec used and the payload length.</returns>
    public static (ChunkCodec Codec, int Length) Encode(ReadOnlySpan<byte> source, DType dtype, CodecChoice choice, Span<byte> destination, int rowLength = 0, int firstColumn = 0)
    {
        var context = new ChunkContext(dtype, rowLength, firstColumn);
        int size = DTypes.Size(dtype);
        if (source.Length > 0 && choice == CodecChoice.Auto && source.Length % size == 0)
        {
            (ChunkCodec? codec, int length) = EncodeAuto(source, context, size, destination);
            if (codec is not null)
            {
                return (codec, length);
            }
        }
        else if (source.Length > 0 && choice != CodecChoice.Raw)
        {
            int written = ZstdCodec.Instance.Encode(source, context, destination[..source.Length]);
            if (written >= 0 && written < source.Length)
            {
                return (ZstdCodec.Instance, written);
            }
        }

        source.CopyTo(destination);
        return (RawCodec.Instance, source.Length);
    }

    /// <summary>The smallest payload among the plausible codecs, or null when none beats raw.</summary>
    private static (ChunkCodec? Codec, int Length) EncodeAuto(ReadOnlySpan<byte> source, scoped in ChunkContext context, int size, Span<byte> destination)
    {
        if (ChunkKernels.IsConstant(source, size))
        {
            return (ConstantCodec.Instance, ConstantCodec.Instance.Encode(source, context, destination));
        }

        int n = source.Length / size;
        bool isFloat = DTypes.IsFloat(context.DType);
        bool isInteger = !isFloat && context.DType != DType.Opaque && size > 1;
        bool mostlyZero = MaybeMostlyZero(source, size, n) && ChunkKernels.CountZeroElements(source, size) * 2 >= n;
        bool fewValues = (isFloat || isInteger) && SampleHasFewValues(source, size, n);

        ChunkCodec? best = null;
        int bestLength = source.Length;
        byte[]? scratch = null;
        try
        {
            // The first candidate writes straight into the destination; later ones into a scratch buffer, copied
            // over only when smaller.
            void Try(ChunkCodec codec, ReadOnlySpan<byte> src, scoped in ChunkContext ctx, Span<byte> dst)
            {
                if (best is null)
                {
                    int direct = codec.Encode(src, ctx, dst[..Math.Min(dst.Length, bestLength)]);
                    if (direct >= 0 && direct < bestLength)
                    {
                        best = codec;
                        bestLength = direct;
                    }

                    return;
                }

                scratch ??= ArrayPool<byte>.Shared.Rent(src.Length + Slack);
                int written = codec.Encode(src, ctx, scratch.AsSpan(0, Math.Min(scratch.Length, bestLength)));
                if (written >= 0 && written < bestLength)
                {
                    best = codec;
                    bestLength = written;
                    scratch.AsSpan(0, written).CopyTo(dst);
                }
            }

            if (isFloat)
            {
                Try(FloatSplitCodec.Instance, source, context, destination);
            }

            if (fewValues)
            {
                Try(PaletteCodec.Instance, source, context, destination);
            }

            if (mostlyZero)
            {
                Try(SparseCodec.Instance, source, context, destination);
            }

            if (isInteger)
            {
                Try(BytePlanesCodec.Instance, source, context, destination);
            }

            if (!isFloat || best is null)
            {
                Try(ZstdCodec.Instance, source, context, destination);
            }
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        return (best, bestLength);
    }

    /// <summary>
    /// False when evenly spaced sample elements are clearly not half zero (under 40% of them), so the exact count can
    /// be skipped; a chunk that is really half zero passes (its sample is within a few points of its share).
    /// </summary>
    private static bool MaybeMostlyZero(ReadOnlySpan<byte> source, int size, int n)
    {
        if (n <= ZeroSample)
        {
            return true;
        }

        long step = n / ZeroSample;
        int zeros = 0;
        int samples = 0;
        for (long i = 0; i < n; i += step)
        {
            zeros += Element(source, (int)i, size) == 0 ? 1 : 0;
            samples++;
        }

        return zeros * 5 >= samples * 2;
    }

    /// <summary>True when evenly spaced sample elements hold at most <see cref="PaletteCodec.MaxEntries"/> distinct values.</summary>
    private static bool SampleHasFewValues(ReadOnlySpan<byte> source, int size, int n)
    {
        // An open-addressing set of 1024 slots (four times the most entries it holds before giving up).
        const int Slots = 1024;
        Span<ulong> keys = stackalloc ulong[Slots];
        Span<bool> used = stackalloc bool[Slots];
        used.Clear();
        int samples = Math.Min(n, PaletteSample);
        long step = Math.Max(1, n / samples);
        int distinct = 0;
        for (long i = 0; i < n && distinct <= PaletteCodec.MaxEntries; i += step)
        {
            ulong value = Element(source, (int)i, size);
            int slot = (int)((value * 0x9E3779B97F4A7C15UL) >> 54);
            while (used[slot] && keys[slot] != value)
            {
                slot = (slot + 1) & (Slots - 1);
            }

            if (!used[slot])
            {
                used[slot] = true;
                keys[slot] = value;
                distinct++;
            }
        }

        return distinct <= PaletteCodec.MaxEntries;
    }

    /// <summary>Element <paramref name="index"/> (of 1, 2, 4 or 8 bytes, little-endian), zero-extended.</summary>
    private static ulong Element(ReadOnlySpan<byte> source, int index, int size) => size switch
    {
        1 => source[index],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(source[(index * 2)..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(source[(index * 4)..]),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(source[(index * 8)..]),
    };
}
