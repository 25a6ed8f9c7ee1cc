using System.Buffers;
using Wafer.Codecs;
using Wafer.Codecs.Kernels;

namespace Wafer.Delta;

/// <summary>
/// <c>delta-ord</c>: each float is mapped to its ordered integer (<see cref="FloatFields.ToOrdered"/>), the base
/// element's is subtracted (wrapping in the element width), and the zig-zagged difference, a distance in ulps,
/// is token-coded under a context of the base element's exponent bucket and sign. The context depends on the base
/// alone, so the decoder knows every element's context before decoding and its rANS lanes never wait on each other
/// (a long chunk's 32 lanes decode eight at a time with AVX2). Fine-tuning
/// moves weights by roughly absolute amounts, so the ulp distance scales with 2^-exponent: conditioning on the
/// base exponent is what makes the delta cheap. Bit-exact for every pattern (NaN payloads, infinities, -0,
/// subnormals): the map is a bijection and the arithmetic wraps.
/// Payload: u8 exponent anchor, u8 context layout, then a token stream (docs/PATCH.md). An F32 or F16 chunk whose
/// target values are all BF16 values (a BF16 model cast up to F32, or to F16) is coded as the BF16 chunk of those
/// values against the base rounded to BF16 (<see cref="NarrowFlag"/>), and an F32 chunk of F16 values (an F16 model
/// cast up) as their F16 chunk (<see cref="HalfNarrowFlag"/>), so their dead bits (16, 3 or 13) cost nothing.
/// </summary>
internal sealed class OrderedDeltaCodec : ChunkCodec
{
    /// <summary>Contexts: exponent bucket (16) × base sign (2).</summary>
    public const int Contexts = FloatFields.ExponentBuckets * 2;

    /// <summary>Entries of the context table, indexed by the base element's sign and exponent bits.</summary>
    public const int SignExponentValues = 512;

    /// <summary>Context layouts: full (exponent bucket and sign), exponent bucket only, one context.</summary>
    public const int FullLayout = 0;

    public const int ExponentLayout = 1;

    public const int SingleContextLayout = 2;

    /// <summary>
    /// Set in the layout byte of an F32 or F16 chunk coded as BF16: its elements are the decoded BF16 values, in the
    /// high halves with zero low halves (F32) or converted to F16 (<see cref="HalfBFloat16.RoundToHalf"/>, exact for
    /// them), and the BF16 residuals are taken against the base elements rounded to BF16 (exactly their BF16 values
    /// when the base holds BF16 values too).
    /// </summary>
    public const int NarrowFlag = 0x80;

    /// <summary>
    /// Set in the layout byte of an F32 chunk coded as F16: its elements are the decoded F16 values widened to F32
    /// (exact), and the F16 residuals are taken against the base elements rounded to F16 (base conversion's F32 → F16
    /// rule). Never together with <see cref="NarrowFlag"/>.
    /// </summary>
    public const int HalfNarrowFlag = 0x40;

    /// <summary>Chunks up to this many elements try every layout; their tables weigh more than the contexts save.</summary>
    public const int SmallChunkElements = 1 << 16;

    public static readonly OrderedDeltaCodec Instance = new();

    [ThreadStatic]
    private static ContextTokenEncoder? t_encoder;

    public override string Name => "delta-ord";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        ContextTokenEncoder encoder = t_encoder ??= new ContextTokenEncoder();
        ushort header;
        bool filled = NarrowType(source, context.Reference, context.DType) is DType narrow
            ? TryFillNarrow(source, context.Reference, context.DType, narrow, encoder, out header)
            : TryFill(source, context.Reference, context.DType, encoder, out header);
        return filled ? WriteFilled(encoder, header, destination) : -1;
    }

    /// <summary>
    /// The 16-bit type an F32 or F16 chunk's target values all belong to, so that it is coded as that type: BF16 when
    /// an F32 chunk's low halves are all zero or an F16 chunk's values are all BF16 values
    /// (<see cref="HalfBFloat16.AllBFloat16"/>), else F16 when an F32 chunk's values are all F16 values
    /// (<see cref="HalfSingle.AllHalfValues(ReadOnlySpan{byte})"/>); null otherwise.
    /// </summary>
    public static DType? NarrowType(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype)
    {
        if (target.Length != reference.Length || target.IsEmpty || target.Length % DTypes.Size(dtype) != 0)
        {
            return null;
        }

        return dtype switch
        {
            DType.F32 when HighHalves.LowHalvesZero(target) => DType.BF16,
            DType.F32 when HalfSingle.AllHalfValues(target) => DType.F16,
            DType.F16 when HalfBFloat16.AllBFloat16(target) => DType.BF16,
            _ => null,
        };
    }

    /// <summary>
    /// <see cref="TryFill"/> for an F32 or F16 chunk whose values all belong to the 16-bit type <paramref name="narrow"/>
    /// (<see cref="NarrowType"/>): those values of the target against the base rounded to that type,
    /// <see cref="NarrowFlag"/> (BF16) or <see cref="HalfNarrowFlag"/> (F16) set in the header's layout byte.
    /// </summary>
    public static bool TryFillNarrow(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype, DType narrow, ContextTokenEncoder encoder, out ushort header)
    {
        int narrowLength = target.Length / (DTypes.Size(dtype) / 2);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(2 * narrowLength);
        try
        {
            Span<byte> narrowTarget = buffer.AsSpan(0, narrowLength);
            Span<byte> narrowReference = buffer.AsSpan(narrowLength, narrowLength);

            // The target's values exactly (F32 → BF16: the high halves, NaN payloads as they are; F32 → F16 and F16 →
            // BF16: the conversion rules, exact for these values); the base rounded as base conversion rounds it.
            if (narrow == DType.BF16 && dtype == DType.F32)
            {
                HighHalves.Narrow(target, narrowTarget);
            }
            else
            {
                BaseConversion.Convert(target, dtype, narrowTarget, narrow);
            }

            BaseConversion.Convert(reference, dtype, narrowReference, narrow);
            bool filled = TryFill(narrowTarget, narrowReference, narrow, encoder, out header);
            header |= (ushort)((narrow == DType.BF16 ? NarrowFlag : HalfNarrowFlag) << 8);
            return filled;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Feeds the chunk's residuals to <paramref name="encoder"/> under the context layout that codes it smallest
    /// (small chunks try the coarser layouts, whose tables cost less); false when the dtype or sizes do not suit
    /// the codec. <paramref name="header"/> packs the payload's two header bytes (anchor, layout). When the elements
    /// are a sample of a larger chunk, <paramref name="chunkElements"/> is that chunk's count: its size, not the
    /// sample's, decides whether the coarser layouts are tried.
    /// </summary>
    public static bool TryFill(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, DType dtype, ContextTokenEncoder encoder, out ushort header, int chunkElements = 0)
    {
        header = 0;
        if (!FloatFields.TryGet(dtype, out FloatFields f) || target.Length != reference.Length || target.Length % f.Width != 0)
        {
            return false;
        }

        int anchor = f.Anchor(reference);
        int count = target.Length / f.Width;
        int best = FullLayout;
        Fill(target, reference, f, anchor, FullLayout, encoder);
        if ((chunkElements > 0 ? chunkElements : count) <= SmallChunkElements)
        {
            // The coarser layouts' contexts nest in the full one's (they drop its low bit, or all of them), so
            // their sizes are estimated from the same histograms; the chunk is collected again only if one wins.
            long bestBytes = encoder.EstimateBytes(LayoutContextMask(FullLayout));
            for (int layout = ExponentLayout; layout <= SingleContextLayout; layout++)
            {
                long bytes = encoder.EstimateBytes(LayoutContextMask(layout));
                if (bytes <= bestBytes)
                {
                    (best, bestBytes) = (layout, bytes);
                }
            }

            if (best != FullLayout)
            {
                Fill(target, reference, f, anchor, best, encoder);
            }
        }

        // The anchor means nothing to the single-context layout; writing 0 keeps every payload canonical.
        header = (ushort)((best == SingleContextLayout ? 0 : anchor) | (best << 8));
        return true;
    }

    /// <summary>The context arithmetic of <see cref="FillContextBase"/> for the vectorised 16-bit collection.</summary>
    public static OrderedResiduals16.ContextWeights Weights(in FloatFields f, int anchor, int layout) =>
        new(anchor, (uint)f.ExponentShift, f.ExponentMask, layout == SingleContextLayout ? 0 : 2, layout == FullLayout ? 1 : 0);

    /// <summary>Which bits of a full-layout context the layout keeps: all, the exponent bucket's, none.</summary>
    public static int LayoutContextMask(int layout) => layout switch
    {
        FullLayout => ~0,
        ExponentLayout => ~1,
        _ => 0,
    };

    /// <summary>Writes the two header bytes (anchor, layout) and the token stream.</summary>
    public static int WriteFilled(ContextTokenEncoder encoder, ushort header, Span<byte> destination)
    {
        if (destination.Length < 2)
        {
            return -1;
        }

        destination[0] = (byte)header;
        destination[1] = (byte)(header >> 8);
        int written = encoder.Write(destination[2..]);
        return written < 0 ? -1 : written + 2;
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

        if (source.Length < 2)
        {
            throw new WaferDataException("delta-ord payload lacks its header");
        }

        int anchor = source[0];
        int layout = source[1] & ~(NarrowFlag | HalfNarrowFlag);
        DType? narrow = (source[1] & (NarrowFlag | HalfNarrowFlag)) switch
        {
            0 => null,
            NarrowFlag when context.DType is DType.F32 or DType.F16 => DType.BF16,
            HalfNarrowFlag when context.DType == DType.F32 => DType.F16,
            _ => DType.Opaque,
        };
        if (layout > SingleContextLayout || (layout == SingleContextLayout && anchor != 0) || narrow == DType.Opaque || (narrow is not null && destination.IsEmpty))
        {
            throw new WaferDataException($"delta-ord header ({source[0]}, {source[1]}) is not valid for {DTypes.Name(context.DType)} elements");
        }

        if (narrow is not DType narrowType)
        {
            DecodeTokens(source[2..], reference, destination, f, anchor, layout);
            return;
        }

        int narrowLength = destination.Length / (f.Width / 2);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(2 * narrowLength);
        try
        {
            Span<byte> narrowReference = buffer.AsSpan(0, narrowLength);
            Span<byte> narrowValues = buffer.AsSpan(narrowLength, narrowLength);
            FloatFields.TryGet(narrowType, out FloatFields narrowFields);
            BaseConversion.Convert(reference, context.DType, narrowReference, narrowType);
            DecodeTokens(source[2..], narrowReference, narrowValues, narrowFields, anchor, layout);

            // BF16 and F16 widen to F32 exactly; BF16 → F16 is exact for the values a narrow F16 chunk holds.
            BaseConversion.Convert(narrowValues, narrowType, destination, context.DType);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void DecodeTokens(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> reference, Span<byte> destination, in FloatFields f, int anchor, int layout)
    {
        Span<byte> contextBase = stackalloc byte[SignExponentValues];
        FillContextBase(f, anchor, layout, contextBase);
        var decoder = new ContextTokenDecoder(stream, Contexts, ValueTokens.AlphabetSize(f.Bits), destination.Length / f.Width);
        try
        {
            switch (f.Width)
            {
                case 1:
                    decoder.DecodeOrdered<Width8>(reference, destination, f, contextBase, Weights(f, anchor, layout));
                    break;
                case 2:
                    decoder.DecodeOrdered<Width16>(reference, destination, f, contextBase, Weights(f, anchor, layout));
                    break;
                default:
                    decoder.DecodeOrdered<Width32>(reference, destination, f, contextBase, Weights(f, anchor, layout));
                    break;
            }

            decoder.Finish();
        }
        finally
        {
            decoder.Dispose();
        }
    }

    /// <summary>
    /// Context per base sign+exponent value (<c>bits &gt;&gt; ExponentShift</c>): bucket × 2 + sign in the full
    /// layout, bucket × 2 in the exponent-only layout, 0 in the single-context layout.
    /// </summary>
    private static void FillContextBase(in FloatFields f, int anchor, int layout, Span<byte> contextBase)
    {
        int exponentBits = f.Bits - 1 - f.ExponentShift;
        for (uint value = 0; value < 2u << exponentBits; value++)
        {
            uint sign = layout == FullLayout ? value >> exponentBits : 0;
            int bucket = layout == SingleContextLayout ? 0 : FloatFields.Bucket(anchor, value & f.ExponentMask);
            contextBase[(int)value] = (byte)((bucket * 2) + sign);
        }
    }

    private static void Fill(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, int anchor, int layout, ContextTokenEncoder encoder)
    {
        encoder.Reset(Contexts, ValueTokens.AlphabetSize(f.Bits), target.Length / f.Width);
        switch (f.Width)
        {
            case 1:
                Span<byte> contextBase = stackalloc byte[SignExponentValues];
                FillContextBase(f, anchor, layout, contextBase);
                encoder.AddOrdered<Width8>(target, reference, f, contextBase);
                break;
            case 2:
                encoder.AddOrdered16(target, reference, Weights(f, anchor, layout));
                break;
            default:
                encoder.AddOrdered32(target, reference, Weights(f, anchor, layout));
                break;
        }
    }
}
