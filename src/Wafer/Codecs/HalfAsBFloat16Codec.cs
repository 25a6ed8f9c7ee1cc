using System.Buffers;
using Wafer.Codecs.Kernels;

namespace Wafer.Codecs;

/// <summary>
/// <c>f16-bf16</c>: an F16 chunk whose values are all BF16 values (a BF16 model cast to F16, as many hub repositories
/// publish BF16-trained models) coded as the <c>float-split</c> payload of those BF16 values
/// (<see cref="HalfBFloat16"/>). The values are the same, so the size is about float-split's on the F16 elements
/// (bytelm-base cast to F16: 65.51% against 65.43% of the raw bytes), but the F16 elements' three dead mantissa bits,
/// which the subnormals do not share, keep float-split on its slow path of differing field widths there, while their
/// BF16 values take the byte-wide one (codecs bench, per thread: 0.61 → 1.1 GB/s encoding, 0.89 → 2.4 decoding).
/// </summary>
internal sealed class HalfAsBFloat16Codec : ChunkCodec
{
    public static readonly HalfAsBFloat16Codec Instance = new();

    public override string Name => "f16-bf16";

    /// <summary>Codes F16 elements that are all BF16 values; declines (-1) any other chunk, most after a few hundred elements.</summary>
    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (context.DType != DType.F16 || source.IsEmpty || source.Length % 2 != 0)
        {
            return -1;
        }

        byte[] values = ArrayPool<byte>.Shared.Rent(source.Length);
        try
        {
            Span<byte> bf16 = values.AsSpan(0, source.Length);
            return HalfBFloat16.TryToBFloat16(source, bf16)
                ? FloatSplitCodec.Instance.Encode(bf16, new ChunkContext(DType.BF16, context.RowLength, context.FirstColumn), destination)
                : -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(values);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (context.DType != DType.F16)
        {
            throw new WaferDataException($"f16-bf16 codes F16 elements, not {DTypes.Name(context.DType)}");
        }

        byte[] values = ArrayPool<byte>.Shared.Rent(Math.Max(1, destination.Length));
        try
        {
            Span<byte> bf16 = values.AsSpan(0, destination.Length);
            FloatSplitCodec.Instance.Decode(source, new ChunkContext(DType.BF16), bf16);
            HalfBFloat16.RoundToHalf(bf16, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(values);
        }
    }
}
