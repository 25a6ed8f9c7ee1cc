using Wafer.Codecs;

namespace Wafer.Delta;

/// <summary>
/// <c>delta-xor</c>: the BitX-style candidate. Target XOR base per element, split into the sign+exponent
/// field and the mantissa field; the first is token-coded under the base's exponent bucket, the second under
/// the bucket and whether the sign/exponent changed. Wins where values flip between exponents often.
/// Payload: u8 exponent anchor, then a token stream (docs/PATCH.md).
/// </summary>
internal sealed class XorFieldDeltaCodec : ChunkCodec
{
    public const int Contexts = FloatFields.ExponentBuckets * 3;

    public static readonly XorFieldDeltaCodec Instance = new();

    [ThreadStatic]
    private static ContextTokenEncoder? t_encoder;

    public override string Name => "delta-xor";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ContextTokenEncoder encoder = t_encoder ??= new ContextTokenEncoder();
        return TryFill(source, context.Reference, context.DType, encoder, out int anchor) ? WriteFilled(encoder, anchor, destination) : -1;
    }

    public static bool TryFill(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype, ContextTokenEncoder encoder, out int anchor)
    {
        anchor = 0;
        if (!FloatFields.TryGet(dtype, out FloatFields f) || target.Length != reference.Length || target.Length % f.Width != 0)
        {
            return false;
        }

        int count = target.Length / f.Width;
        anchor = f.Anchor(reference);
        encoder.Reset(Contexts, ValueTokens.AlphabetSize(f.Bits), count * 2);
        switch (f.Width)
        {
            case 1:
                Span<byte> buckets = stackalloc byte[OrderedDeltaCodec.SignExponentValues];
                for (uint value = 0; value < 2u << (f.Bits - 1 - f.ExponentShift); value++)
                {
                    buckets[(int)value] = (byte)FloatFields.Bucket(anchor, value & f.ExponentMask);
                }

                encoder.AddXor<Width8>(target, reference, f.ExponentShift, buckets);
                break;
            case 2:
                encoder.AddXorFields<Width16>(target, reference, f, anchor);
                break;
            default:
                encoder.AddXorFields<Width32>(target, reference, f, anchor);
                break;
        }

        return true;
    }

    /// <summary>Writes the anchor byte and the token stream.</summary>
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
            throw new WaferDataException($"delta-xor does not code {DTypes.Name(context.DType)} elements");
        }

        if (reference.Length != destination.Length || destination.Length % f.Width != 0)
        {
            throw new WaferDataException($"delta-xor needs a base chunk of {destination.Length} bytes, got {reference.Length}");
        }

        if (source.Length < 1)
        {
            throw new WaferDataException("delta-xor payload is empty");
        }

        int anchor = source[0];
        int count = destination.Length / f.Width;
        uint mantissaMask = (1u << f.ExponentShift) - 1;
        uint highLimit = 1u << (f.Bits - f.ExponentShift);
        var decoder = new ContextTokenDecoder(source[1..], Contexts, ValueTokens.AlphabetSize(f.Bits), count * 2);
        try
        {
            for (int i = 0; i < count; i++)
            {
                uint b = f.Read(reference, i);
                int bucket = FloatFields.Bucket(anchor, f.Exponent(b));
                uint high = decoder.Next(bucket);
                uint mantissa = decoder.Next(MantissaContext(bucket, high));
                if (high >= highLimit || mantissa > mantissaMask)
                {
                    throw new WaferDataException($"delta-xor element {i} decodes outside its fields");
                }

                f.Write(destination, i, b ^ ((high << f.ExponentShift) | mantissa));
            }

            decoder.Finish();
        }
        finally
        {
            decoder.Dispose();
        }
    }

    private static int MantissaContext(int bucket, uint high) =>
        FloatFields.ExponentBuckets + (high == 0 ? 0 : FloatFields.ExponentBuckets) + bucket;
}
