using Wafer.Codecs;

namespace Wafer.Delta;

/// <summary><c>same</c>: the chunk equals its base chunk; the payload is empty.</summary>
internal sealed class SameAsBaseCodec : ChunkCodec
{
    public static readonly SameAsBaseCodec Instance = new();

    public override string Name => "same";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination) =>
        source.SequenceEqual(context.Reference) ? 0 : -1;

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (source.Length != 0)
        {
            throw new WaferDataException($"a 'same' chunk has a {source.Length}-byte payload, expected none");
        }

        if (context.Reference.Length != destination.Length)
        {
            throw new WaferDataException($"a 'same' chunk of {destination.Length} bytes has a {context.Reference.Length}-byte base");
        }

        context.Reference.CopyTo(destination);
    }
}
