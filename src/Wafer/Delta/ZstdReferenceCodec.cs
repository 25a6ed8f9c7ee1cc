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
    public const int Level = 19;

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
            Check(Methods.ZSTD_CCtx_setParameter(cctx, ZSTD_cParameter.ZSTD_c_compressionLevel, Level));
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
