namespace Wafer.Codecs;

/// <summary>A chunk whose elements are all equal (all-zero tensors, filled biases): the payload is one element.</summary>
internal sealed class ConstantCodec : ChunkCodec
{
    public static readonly ConstantCodec Instance = new();

    public override string Name => "constant";

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (source.Length == 0 || source.Length % size != 0 || destination.Length < size || !Kernels.ChunkKernels.IsConstant(source, size))
        {
            return -1;
        }

        source[..size].CopyTo(destination);
        return size;
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int size = DTypes.Size(context.DType);
        if (source.Length != size)
        {
            throw new WaferDataException($"constant chunk payload is {source.Length} bytes, expected one {size}-byte element");
        }

        if (destination.Length % size != 0)
        {
            throw new WaferDataException($"constant chunk of {destination.Length} bytes is not a whole number of {size}-byte elements");
        }

        if (size == 1)
        {
            destination.Fill(source[0]);
            return;
        }

        for (int i = 0; i < destination.Length; i += size)
        {
            source.CopyTo(destination[i..]);
        }
    }
}
