using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Wafer.Codecs.Kernels;

namespace Wafer.Codecs;

/// <summary>
/// Picks and runs the codec for one chunk. Deterministic: the choice depends only on the chunk's bytes, its
/// dtype and the <see cref="CodecChoice"/>. Never returns a payload larger than the raw chunk.
/// </summary>
/// <remarks>
/// <see cref="CodecChoice.Auto"/> decides from cheap whole-chunk scans (constant, share of zero elements, distinct
/// values in a sample) which few codecs can win, runs only those and keeps the smallest payload: float-split for
/// float data (f16-bf16 for F16 chunks of BF16 values), palette when the sample has at most 256 distinct values,
/// sparse when at least half the elements are zero, byte-planes and zstd for integers, zstd for everything else, raw
/// when nothing is smaller.
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

    /// <summary>
    /// True when the cheap scans <see cref="CodecChoice.Auto"/> runs find structure that codecs beyond float-split
    /// exploit: a constant chunk, about half zero elements or more (sampled), or few distinct values (sampled). A caller
    /// holding another candidate that already looks good (a patch's delta) runs the standalone codecs only then.
    /// </summary>
    public static bool SuggestsStructure(ReadOnlySpan<byte> source, DType dtype)
    {
        int size = DTypes.Size(dtype);
        if (source.IsEmpty || source.Length % size != 0)
        {
            return false;
        }

        int n = source.Length / size;
        return ChunkKernels.IsConstant(source, size) || MaybeMostlyZero(source, size, n) || SampleHasFewValues(source, size, n);
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
            // True when the codec's payload is the best so far.
            bool Try(ChunkCodec codec, ReadOnlySpan<byte> src, scoped in ChunkContext ctx, Span<byte> dst)
            {
                if (best is null)
                {
                    int direct = codec.Encode(src, ctx, dst[..Math.Min(dst.Length, bestLength)]);
                    if (direct >= 0 && direct < bestLength)
                    {
                        best = codec;
                        bestLength = direct;
                        return true;
                    }

                    return false;
                }

                scratch ??= ArrayPool<byte>.Shared.Rent(src.Length + Slack);
                int written = codec.Encode(src, ctx, scratch.AsSpan(0, Math.Min(scratch.Length, bestLength)));
                if (written >= 0 && written < bestLength)
                {
                    best = codec;
                    bestLength = written;
                    scratch.AsSpan(0, written).CopyTo(dst);
                    return true;
                }

                return false;
            }

            // F16 elements that are all BF16 values code as those BF16 values, about as small and two to three times
            // as fast (f16-bf16 declines any other chunk); other floats, and those it declines, go to float-split.
            if (isFloat && (context.DType != DType.F16 || !Try(HalfAsBFloat16Codec.Instance, source, context, destination)))
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
    private static bool MaybeMostlyZero(ReadOnlySpan<byte> source, int size, int n) => size switch
    {
        1 => MaybeMostlyZero(source),
        2 => MaybeMostlyZero(MemoryMarshal.Cast<byte, ushort>(source)[..n]),
        4 => MaybeMostlyZero(MemoryMarshal.Cast<byte, uint>(source)[..n]),
        _ => MaybeMostlyZero(MemoryMarshal.Cast<byte, ulong>(source)[..n]),
    };

    /// <summary><see cref="MaybeMostlyZero(ReadOnlySpan{byte}, int, int)"/> over elements of one width (zero is zero in either byte order).</summary>
    private static bool MaybeMostlyZero<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (values.Length <= ZeroSample)
        {
            return true;
        }

        int step = values.Length / ZeroSample;
        int zeros = 0;
        int samples = 0;
        for (int i = 0; i < values.Length; i += step)
        {
            zeros += T.IsZero(values[i]) ? 1 : 0;
            samples++;
        }

        return zeros * 5 >= samples * 2;
    }

    /// <summary>True when evenly spaced sample elements hold at most <see cref="PaletteCodec.MaxEntries"/> distinct values.</summary>
    private static bool SampleHasFewValues(ReadOnlySpan<byte> source, int size, int n) => size switch
    {
        1 => SampleHasFewValues(source),
        2 => SampleHasFewValues(MemoryMarshal.Cast<byte, ushort>(source)[..n]),
        4 => SampleHasFewValues(MemoryMarshal.Cast<byte, uint>(source)[..n]),
        _ => SampleHasFewValues(MemoryMarshal.Cast<byte, ulong>(source)[..n]),
    };

    /// <summary>
    /// <see cref="SampleHasFewValues(ReadOnlySpan{byte}, int, int)"/> over elements of one width. The elements are
    /// compared as they lie in memory, so the count does not depend on the byte order.
    /// </summary>
    private static bool SampleHasFewValues<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IBinaryInteger<T>
    {
        // An open-addressing set of 1024 slots (four times the most entries it holds before giving up).
        const int Slots = 1024;
        Span<ulong> keys = stackalloc ulong[Slots];
        Span<bool> used = stackalloc bool[Slots];
        used.Clear();
        int n = values.Length;
        int samples = Math.Min(n, PaletteSample);
        int step = Math.Max(1, n / samples);
        int distinct = 0;
        for (int i = 0; i < n && distinct <= PaletteCodec.MaxEntries; i += step)
        {
            ulong value = ulong.CreateTruncating(values[i]);
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
}
