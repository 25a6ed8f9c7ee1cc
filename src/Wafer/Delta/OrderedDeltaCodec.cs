using Wafer.Codecs;

namespace Wafer.Delta;

/// <summary>
/// <c>delta-ord</c>: each float is mapped to its ordered integer (<see cref="FloatFields.ToOrdered"/>), the base
/// element's is subtracted (wrapping in the element width), and the zig-zagged difference, a distance in ulps,
/// is token-coded under a context of the base element's exponent bucket and the previous difference's
/// magnitude. Fine-tuning moves weights by roughly absolute amounts, so the ulp distance scales with
/// 2^-exponent: conditioning on the base exponent is what makes the delta cheap. Bit-exact for every pattern
/// (NaN payloads, infinities, -0, subnormals): the map is a bijection and the arithmetic wraps.
/// Payload: u8 exponent anchor, then a token stream (docs/PATCH.md).
/// </summary>
internal sealed class OrderedDeltaCodec : ChunkCodec
{
    public const int PreviousBuckets = 4;

    public const int Contexts = FloatFields.ExponentBuckets * PreviousBuckets;

    public static readonly OrderedDeltaCodec Instance = new();

    [ThreadStatic]
    private static ContextTokenEncoder? t_encoder;

    public override string Name => "delta-ord";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ContextTokenEncoder encoder = t_encoder ??= new ContextTokenEncoder();
        return TryFill(source, context.Reference, context.DType, encoder, out int anchor) ? WriteFilled(encoder, anchor, destination) : -1;
    }

    /// <summary>Feeds the chunk's residuals to <paramref name="encoder"/>; false when the dtype or sizes do not suit the codec.</summary>
    public static bool TryFill(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype, ContextTokenEncoder encoder, out int anchor)
    {
        anchor = 0;
        if (!FloatFields.TryGet(dtype, out FloatFields f) || target.Length != reference.Length || target.Length % f.Width != 0)
        {
            return false;
        }

        int count = target.Length / f.Width;
        anchor = f.Anchor(reference);
        encoder.Reset(Contexts, ValueTokens.AlphabetSize(f.Bits), count);
        int previous = 0;
        for (int i = 0; i < count; i++)
        {
            uint b = f.Read(reference, i);
            uint t = f.Read(target, i);
            uint z = f.ZigZag((f.ToOrdered(t) - f.ToOrdered(b)) & f.ValueMask);
            encoder.Add((FloatFields.Bucket(anchor, f.Exponent(b)) * PreviousBuckets) + previous, z);
            previous = PreviousBucket(z);
        }

        return true;
    }

    public static int WriteFilled(ContextTokenEncoder encoder, int anchor, Span<byte> destination)
    {
        if (destination.Length < 1)
        {
            return -1;
        }

        destination[0] = (byte)anchor;
        int written = encoder.Write(destination[1..]);
        return written < 0 ? -1 : written + 1;
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ReadOnlySpan<byte> reference = context.Reference;
        if (!FloatFields.TryGet(context.DType, out FloatFields f))
        {
            throw new WaferDataException($"delta-ord does not code {DTypes.Name(context.DType)} elements");
        }

        if (reference.Length != destination.Length || destination.Length % f.Width != 0)
        {
            throw new WaferDataException($"delta-ord needs a base chunk of {destination.Length} bytes, got {reference.Length}");
        }

        if (source.Length < 1)
        {
            throw new WaferDataException("delta-ord payload is empty");
        }

        int anchor = source[0];
        int count = destination.Length / f.Width;
        var decoder = new ContextTokenDecoder(source[1..], Contexts, ValueTokens.AlphabetSize(f.Bits));
        try
        {
            int previous = 0;
            for (int i = 0; i < count; i++)
            {
                uint b = f.Read(reference, i);
                uint z = decoder.Next((FloatFields.Bucket(anchor, f.Exponent(b)) * PreviousBuckets) + previous);
                f.Write(destination, i, f.FromOrdered((f.ToOrdered(b) + f.UnZigZag(z)) & f.ValueMask));
                previous = PreviousBucket(z);
            }

            decoder.Finish();
        }
        finally
        {
            decoder.Dispose();
        }
    }

    /// <summary>0 for an unchanged element, then small, medium, large ulp distances.</summary>
    private static int PreviousBucket(uint z) => z == 0 ? 0 : z < 4 ? 1 : z < 32 ? 2 : 3;
}
