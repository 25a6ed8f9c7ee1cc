namespace Wafer.Codecs;

/// <summary>
/// Picks and runs the codec for one chunk. Deterministic: the choice depends only on the chunk's bytes, its
/// dtype and the <see cref="CodecChoice"/>. Never returns a payload larger than the raw chunk.
/// </summary>
internal static class CodecSelector
{
    /// <summary>Bytes a destination buffer needs beyond the raw size so that any codec's worst case fits.</summary>
    public const int Slack = 1024;

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (at least source + <see cref="Slack"/> bytes).</summary>
    /// <returns>The codec used and the payload length.</returns>
    public static (ChunkCodec Codec, int Length) Encode(ReadOnlySpan<byte> source, DType dtype, CodecChoice choice, Span<byte> destination)
    {
        var context = new ChunkContext(dtype);
        if (choice == CodecChoice.Auto && DTypes.IsFloat(dtype) && source.Length > 0)
        {
            int written = FloatSplitCodec.Instance.Encode(source, context, destination[..source.Length]);
            if (written >= 0 && written < source.Length)
            {
                return (FloatSplitCodec.Instance, written);
            }
        }

        if (choice != CodecChoice.Raw && source.Length > 0)
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
}
