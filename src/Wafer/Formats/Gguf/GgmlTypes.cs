namespace Wafer.Formats.Gguf;

/// <summary>
/// The ggml type table (<c>ggml.h</c> <c>enum ggml_type</c> with the block geometry of gguf-py's
/// <c>GGML_QUANT_SIZES</c>). Ids 4, 5, 31–33 and 36–38 were removed from GGUF files and are rejected.
/// </summary>
internal static class GgmlTypes
{
    private const int QkK = 256;

    private static readonly Dictionary<uint, GgmlType> s_byId = new GgmlType[]
    {
        new(0, "F32", 1, 4, DType.F32),
        new(1, "F16", 1, 2, DType.F16),
        new(2, "Q4_0", 32, 2 + 16, DType.Opaque),
        new(3, "Q4_1", 32, 2 + 2 + 16, DType.Opaque),
        new(6, "Q5_0", 32, 2 + 4 + 16, DType.Opaque),
        new(7, "Q5_1", 32, 2 + 2 + 4 + 16, DType.Opaque),
        new(8, "Q8_0", 32, 2 + 32, DType.Opaque),
        new(9, "Q8_1", 32, 4 + 4 + 32, DType.Opaque),
        new(10, "Q2_K", QkK, 2 + 2 + (QkK / 16) + (QkK / 4), DType.Opaque),
        new(11, "Q3_K", QkK, 2 + (QkK / 4) + (QkK / 8) + 12, DType.Opaque),
        new(12, "Q4_K", QkK, 2 + 2 + (QkK / 2) + 12, DType.Opaque),
        new(13, "Q5_K", QkK, 2 + 2 + (QkK / 2) + (QkK / 8) + 12, DType.Opaque),
        new(14, "Q6_K", QkK, 2 + (QkK / 2) + (QkK / 4) + (QkK / 16), DType.Opaque),
        new(15, "Q8_K", QkK, 4 + QkK + (QkK / 8), DType.Opaque),
        new(16, "IQ2_XXS", QkK, 2 + (QkK / 4), DType.Opaque),
        new(17, "IQ2_XS", QkK, 2 + (QkK / 4) + (QkK / 32), DType.Opaque),
        new(18, "IQ3_XXS", QkK, 2 + (QkK / 4) + (QkK / 8), DType.Opaque),
        new(19, "IQ1_S", QkK, 2 + (QkK / 8) + (QkK / 16), DType.Opaque),
        new(20, "IQ4_NL", 32, 2 + 16, DType.Opaque),
        new(21, "IQ3_S", QkK, 2 + (QkK / 4) + (QkK / 8) + (QkK / 32) + 4, DType.Opaque),
        new(22, "IQ2_S", QkK, 2 + (QkK / 4) + (QkK / 16), DType.Opaque),
        new(23, "IQ4_XS", QkK, 2 + 2 + (QkK / 2) + (QkK / 64), DType.Opaque),
        new(24, "I8", 1, 1, DType.I8),
        new(25, "I16", 1, 2, DType.I16),
        new(26, "I32", 1, 4, DType.I32),
        new(27, "I64", 1, 8, DType.I64),
        new(28, "F64", 1, 8, DType.F64),
        new(29, "IQ1_M", QkK, (QkK / 8) + (QkK / 16) + (QkK / 32), DType.Opaque),
        new(30, "BF16", 1, 2, DType.BF16),
        new(34, "TQ1_0", QkK, 2 + (4 * 13), DType.Opaque),
        new(35, "TQ2_0", QkK, 2 + 64, DType.Opaque),
        new(39, "MXFP4", 32, 1 + 16, DType.Opaque),
        new(40, "NVFP4", 64, 4 + 32, DType.Opaque),
        new(41, "Q1_0", 128, 2 + 16, DType.Opaque),
        new(42, "Q2_0", 64, 2 + 16, DType.Opaque),
    }.ToDictionary(static t => t.Id);

    /// <summary>The type with id <paramref name="id"/>, or null for ids GGUF files cannot hold.</summary>
    public static GgmlType? Find(uint id) => s_byId.GetValueOrDefault(id);
}
