namespace Wafer.Codecs;

/// <summary>
/// What a codec knows about the chunk it codes besides its bytes: the element type, for delta codecs the
/// reference bytes (the base model's corresponding chunk) that encoder and decoder both have, and for an encoder
/// the tensor's row geometry (a hint: a codec that uses it records it in its payload, so decoding never needs it).
/// </summary>
internal readonly ref struct ChunkContext
{
    public ChunkContext(DType dtype)
    {
        DType = dtype;
        Reference = default;
    }

    public ChunkContext(DType dtype, ReadOnlySpan<byte> reference)
    {
        DType = dtype;
        Reference = reference;
    }

    public ChunkContext(DType dtype, int rowLength, int firstColumn)
    {
        DType = dtype;
        Reference = default;
        RowLength = rowLength;
        FirstColumn = firstColumn;
    }

    /// <summary>The element type of the chunk's values; <see cref="DType.Opaque"/> for plain bytes.</summary>
    public DType DType { get; }

    /// <summary>Reference bytes for delta coding; empty when the chunk is coded on its own.</summary>
    public ReadOnlySpan<byte> Reference { get; }

    /// <summary>Elements per row (the tensor's last dimension) when it has at least two dimensions; 0 when unknown.</summary>
    public int RowLength { get; }

    /// <summary>The column of the chunk's first element within its row (below <see cref="RowLength"/>).</summary>
    public int FirstColumn { get; }
}
