using Wafer.Codecs;
using ZstdSharp.Unsafe;

namespace Wafer.Delta;

/// <summary>
/// <c>zstd-ref</c>: zstd with the base bytes as a raw-content reference prefix (like <c>zstd --patch-from</c>),
/// for non-tensor bytes (headers, configs, tokenizers). The reference is the whole base region named by the
/// blob's <c>base</c> entry, at most <see cref="Archive.ArchiveFormat.MaxChunkSize"/> bytes.
/// Payload: one zstd frame.
/// </summary>
internal sealed unsafe class ZstdReferenceCodec : ChunkCodec
{
    /// <summary>The level for targets of up to <see cref="SlowLevelLimit"/> bytes.</summary>
    public const int Level = 19;

    /// <summary>
    /// The level for larger targets, with long-distance matching (which finds the reference's long matches that
    /// level 9's own search misses). Level 19 codes about 2 MB/s against a 4 MiB reference here: a 4 MiB JSON file with
    /// 200 changed bytes took 2.2 s for 1,044 bytes; level 9 with long-distance matching took 30 ms for 2,019 bytes
    /// (without it, 25,339 bytes).
    /// </summary>
    public const int LargeLevel = 9;

    /// <summary>Target bytes up to which <see cref="Level"/> is used: the corpus's 128 KiB trainer state takes 19 ms.</summary>
    public const int SlowLevelLimit = 256 << 10;

    private const int MaxWindowLog = 27;

    public static readonly ZstdReferenceCodec Instance = new();

    public override string Name => "zstd-ref";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ReadOnlySpan<byte> reference = context.Reference;
        if (source.IsEmpty || destination.IsEmpty)
        {
            return -1;
        }

        ZSTD_CCtx_s* cctx = Methods.ZSTD_createCCtx();
        try
        {
            long span = (long)source.Length + reference.Length;
            int windowLog = Math.Clamp(64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Max(1, span - 1)), 10, MaxWindowLog);
            bool large = source.Length > SlowLevelLimit;
            Check(Methods.ZSTD_CCtx_setParameter(cctx, ZSTD_cParameter.ZSTD_c_compressionLevel, large ? LargeLevel : Level));
            Check(Methods.ZSTD_CCtx_setParameter(cctx, ZSTD_cParameter.ZSTD_c_enableLongDistanceMatching, large ? 1 : 0));
            Check(Methods.ZSTD_CCtx_setParameter(cctx, ZSTD_cParameter.ZSTD_c_windowLog, windowLog));
            fixed (byte* prefix = reference)
            fixed (byte* input = source)
            fixed (byte* output = destination)
            {
                if (!reference.IsEmpty)
                {
                    Check(Methods.ZSTD_CCtx_refPrefix_advanced(cctx, prefix, (nuint)reference.Length, ZSTD_dictContentType_e.ZSTD_dct_rawContent));
                }

                nuint written = Methods.ZSTD_compress2(cctx, output, (nuint)destination.Length, input, (nuint)source.Length);
                return Methods.ZSTD_isError(written) ? -1 : (int)written;
            }
        }
        finally
        {
            Methods.ZSTD_freeCCtx(cctx);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ReadOnlySpan<byte> reference = context.Reference;
        ZSTD_DCtx_s* dctx = Methods.ZSTD_createDCtx();
        try
        {
            Check(Methods.ZSTD_DCtx_setParameter(dctx, ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog));
            fixed (byte* prefix = reference)
            fixed (byte* input = source)
            fixed (byte* output = destination)
            {
                if (!reference.IsEmpty)
                {
                    Check(Methods.ZSTD_DCtx_refPrefix_advanced(dctx, prefix, (nuint)reference.Length, ZSTD_dictContentType_e.ZSTD_dct_rawContent));
                }

                nuint written = Methods.ZSTD_decompressDCtx(dctx, output, (nuint)destination.Length, input, (nuint)source.Length);
                if (Methods.ZSTD_isError(written))
                {
                    throw new WaferDataException($"zstd-ref chunk is corrupt: {new string(Methods.ZSTD_getErrorName(written))}");
                }

                if ((int)written != destination.Length)
                {
                    throw new WaferDataException($"zstd-ref chunk decodes to {written} bytes, expected {destination.Length}");
                }
            }
        }
        finally
        {
            Methods.ZSTD_freeDCtx(dctx);
        }
    }

    private static void Check(nuint code)
    {
        if (Methods.ZSTD_isError(code))
        {
            throw new WaferDataException($"zstd-ref: {new string(Methods.ZSTD_getErrorName(code))}");
        }
    }
}
