using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Wafer.Codecs;

/// <summary>Generic zstd at a fixed level: the right codec for headers, configs, tokenizers and integer data.</summary>
internal sealed class ZstdCodec : ChunkCodec
{
    public const int DefaultLevel = 3;

    // A decoder never needs a window larger than the chunk (or a manifest, written at level 9 with its 4 MiB window);
    // capping it stops a hostile frame from asking for gigabytes.
    private const int MaxWindowLog = 27;

    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    public static readonly ZstdCodec Instance = new();

    public override string Name => "zstd";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        Compressor compressor = t_compressor ??= new Compressor(DefaultLevel);
        return compressor.TryWrap(source, destination, out int written) ? written : -1;
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        Decompress(source, destination);
    }

    /// <summary>Decompresses one zstd frame into exactly <paramref name="destination"/>.</summary>
    internal static void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Decompressor decompressor = t_decompressor ??= CreateDecompressor();
        int written;
        try
        {
            if (!decompressor.TryUnwrap(source, destination, out written))
            {
                throw new WaferDataException($"zstd frame decodes to more than the declared {destination.Length} bytes");
            }
        }
        catch (ZstdException e)
        {
            // A failed frame can leave the context mid-stream; start the next chunk with a fresh one.
            t_decompressor = null;
            throw new WaferDataException($"zstd frame is corrupt: {e.Message}", e);
        }

        if (written != destination.Length)
        {
            throw new WaferDataException($"zstd frame decodes to {written} bytes, expected {destination.Length}");
        }
    }

    private static Decompressor CreateDecompressor()
    {
        var decompressor = new Decompressor();
        decompressor.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        return decompressor;
    }
}
