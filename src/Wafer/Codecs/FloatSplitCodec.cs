using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;

namespace Wafer.Codecs;

/// <summary>
/// Float-aware coding of BF16, F16, F32, F64 and FP8 chunks. Each value is split at the bit level into the
/// exponent plus the top mantissa bits (entropy coded with per-chunk rANS tables, optionally conditioned on the
/// previous value's exponent, with the next mantissa bits coded given the exponent) and the sign plus the
/// remaining low mantissa bits (near random: packed raw). Mantissa bits that are zero in every value of the chunk
/// (an F32 chunk holding BF16 values, say) are not stored at all. The byte layout is in docs/CODECS.md.
/// </summary>
internal sealed partial class FloatSplitCodec : ChunkCodec
{
    public static readonly FloatSplitCodec Instance = new();

    private const byte Version = 3;

    /// <summary>Exponent-context modes.</summary>
    private const int ModeJoint = 0;
    private const int ModePreviousExponent = 1;
    private const int ModeRowClass = 2;

    /// <summary>Most row classes in <see cref="ModeRowClass"/>.</summary>
    private const int MaxRowClasses = 8;

    /// <summary>Buckets of the previous exponent in <see cref="ModePreviousExponent"/>.</summary>
    private const int ExponentContexts = 8;

    /// <summary>Previous exponents at or below <c>center - BucketOffset</c> share bucket 0.</summary>
    private const int BucketOffset = 5;

    /// <summary>Most second-symbol tables; rarer exponents share the last.</summary>
    private const int MaxSecondContexts = 16;

    /// <summary>Most mantissa bits the encoder moves into coded symbols.</summary>
    private const int MaxCodedMantissaBits = 4;

    private const int MaxAlphabet = 256;

    /// <summary>Sign handling per symbol: a raw bit per value, or the same sign for every value of the symbol.</summary>
    private const int SignRaw = 0;
    private const int SignPositive = 1;
    private const int SignNegative = 2;

    public override string Name => "float-split";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (FloatLayout.For(context.DType) is not FloatLayout layout || source.Length % layout.Bytes != 0)
        {
            return -1;
        }

        return layout.Bits switch
        {
            8 => EncodeCore<Element8>(source, layout, context.RowLength, context.FirstColumn, destination),
            16 => EncodeCore<Element16>(source, layout, context.RowLength, context.FirstColumn, destination),
            32 => EncodeCore<Element32>(source, layout, context.RowLength, context.FirstColumn, destination),
            _ => EncodeCore<Element64>(source, layout, context.RowLength, context.FirstColumn, destination),
        };
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (FloatLayout.For(context.DType) is not FloatLayout layout)
        {
            throw new WaferDataException($"float-split chunk has non-float dtype {DTypes.Name(context.DType)}");
        }

        if (destination.Length % layout.Bytes != 0)
        {
            throw new WaferDataException($"float-split chunk of {destination.Length} bytes is not a whole number of {DTypes.Name(context.DType)} elements");
        }

        switch (layout.Bits)
        {
            case 8:
                DecodeCore<Element8>(source, layout, destination);
                break;
            case 16:
                DecodeCore<Element16>(source, layout, destination);
                break;
            case 32:
                DecodeCore<Element32>(source, layout, destination);
                break;
            default:
                DecodeCore<Element64>(source, layout, destination);
                break;
        }
    }

    /// <summary>The plan a payload was written with (context mode, joint and second mantissa bits), for reports and tests.</summary>
    internal static (int Mode, int JointBits, int SecondBits) Describe(ReadOnlySpan<byte> payload)
    {
        int pos = 1;
        Entropy.VarInt.Read(payload, ref pos, ulong.MaxValue, "float-split value count");
        return payload.Length - pos < 3 ? (-1, 0, 0) : (payload[pos], payload[pos + 1], payload[pos + 2]);
    }

    /// <summary>Values from which a joint-mode stream (one symbol per value) has <see cref="Rans.WideLanes"/> states.</summary>
    internal const int JointWideMinimum = 1 << 14;

    /// <summary>Values per block of the joint decoder: rANS symbols first, then their raw fields.</summary>
    private const int JointBlock = 2048;

    /// <summary>
    /// The interleaved states of a chunk's stream. A joint-mode stream (mode 0, no second symbol) has 32 from 16384
    /// values on: its stash makes the extra states nearly free. Every other stream follows <see cref="Rans.LanesFor"/>.
    /// </summary>
    private static int LanesFor(int mode, int k2, int n) =>
        mode == ModeJoint && k2 == 0
            ? n >= JointWideMinimum ? Rans.WideLanes : Rans.NarrowLanes
            : Rans.LanesFor(k2 == 0 ? n : 2L * n);

    /// <summary>The first value of the joint decoder's final block (of 1 to <see cref="JointBlock"/> values).</summary>
    internal static int FinalBlockStart(int n) => (n - 1) / JointBlock * JointBlock;

    /// <summary>
    /// Raw bytes a joint-mode stream keeps in its encoder's initial states (16 bits a state): the last bytes of the
    /// raw stream, as many as lie wholly after bit <paramref name="finalBlockBits"/> (where the final block's fields
    /// start), at most two a state. The decoder has them once the final block's symbols are decoded, which is when it
    /// first needs them. A state's initial value 2^16 is the rANS stream's cost of 16 bits; a stashed word makes
    /// those bits carry data.
    /// </summary>
    internal static int StashLength(int lanes, long finalBlockBits, long totalBits) =>
        (int)Math.Min(2L * lanes, ((totalBits + 7) / 8) - ((finalBlockBits + 7) / 8));

    /// <summary>Sets each encoder state to 2^16 plus its stashed word: bytes 2j and 2j + 1 of <paramref name="stash"/> (little-endian) for state j.</summary>
    internal static void Stash(ReadOnlySpan<byte> stash, Span<uint> states)
    {
        for (int j = 0; j < states.Length; j++)
        {
            uint word = 0;
            for (int b = 0; b < 2 && (2 * j) + b < stash.Length; b++)
            {
                word |= (uint)stash[(2 * j) + b] << (8 * b);
            }

            states[j] = Rans.LowerBound + word;
        }
    }

    /// <summary>
    /// The decoder's side of <see cref="Stash"/>: takes each final state's word out into <paramref name="stash"/> and
    /// leaves the state at 2^16. A state whose word does not fit its share of the stash is left as it is, so the final
    /// check reports the stream corrupt.
    /// </summary>
    internal static void Unstash(Span<uint> states, Span<byte> stash)
    {
        for (int j = 0; j < states.Length; j++)
        {
            int share = Math.Clamp(stash.Length - (2 * j), 0, 2);
            uint word = states[j] - Rans.LowerBound;
            if (states[j] < Rans.LowerBound || word >= 1u << (8 * share))
            {
                continue;
            }

            for (int b = 0; b < share; b++)
            {
                stash[(2 * j) + b] = (byte)(word >> (8 * b));
            }

            states[j] = Rans.LowerBound;
        }
    }

    private static int Bucket(int exponent, int center) => Math.Clamp(exponent - center + BucketOffset, 0, ExponentContexts - 1);
}
