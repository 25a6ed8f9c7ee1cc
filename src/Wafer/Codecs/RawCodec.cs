namespace Wafer.Codecs;

/// <summary>Stores the chunk as it is: the fallback that bounds every chunk's size.</summary>
internal sealed class RawCodec : ChunkCodec
{
    public static readonly RawCodec Instance = new();

    public override string Name => "raw";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination) =>
        source.TryCopyTo(destination) ? source.Length : -1;

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (source.Length != destination.Length)
        {
            throw new WaferDataException($"raw chunk holds {source.Length} bytes, expected {destination.Length}");
        }

        source.CopyTo(destination);
    }
}
