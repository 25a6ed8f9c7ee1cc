namespace Wafer.Codecs;

/// <summary>
/// A lossless transform of one chunk. The contract every codec keeps:
/// <list type="bullet">
/// <item>A chunk decodes on its own: the payload plus <see cref="ChunkContext"/> is all a decoder needs.</item>
/// <item><see cref="Decode"/> writes exactly <c>destination.Length</c> bytes (the size the manifest declares) and
/// never past it; a payload that decodes to any other size, or is malformed, throws <see cref="WaferDataException"/>.</item>
/// <item><see cref="Encode"/> is deterministic and returns -1 when its output would not fit
/// <c>destination</c>; the caller then stores the chunk raw, so nothing is stored larger than raw.</item>
/// </list>
/// </summary>
internal abstract class ChunkCodec
{
    /// <summary>The codec's name in the manifest (e.g. <c>zstd</c>). Stable forever once shipped.</summary>
    public abstract string Name { get; }

    /// <summary>True when the codec needs <see cref="ChunkContext.Reference"/> (delta codecs).</summary>
    public virtual bool NeedsReference => false;

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/>; bytes written, or -1 when it does not fit.</summary>
    public abstract int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination);

    /// <summary>Decodes <paramref name="source"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="WaferDataException">The payload is malformed or decodes to another size.</exception>
    public abstract void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination);
}
