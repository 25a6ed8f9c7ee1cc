namespace Wafer.Codecs;

/// <summary>
/// What a codec knows about the chunk it codes besides its bytes: the element type, and for delta codecs the
/// reference bytes (the base model's corresponding chunk) that encoder and decoder both have.
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

    /// <summary>The element type of the chunk's values; <see cref="DType.Opaque"/> for plain bytes.</summary>
    public DType DType { get; }

    /// <summary>Reference bytes for delta coding; empty when the chunk is coded on its own.</summary>
    public ReadOnlySpan<byte> Reference { get; }
}
