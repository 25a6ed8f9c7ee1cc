namespace Wafer.Formats.Gguf;

/// <summary>
/// A ggml tensor element type: <paramref name="BlockSize"/> elements are stored in <paramref name="BlockBytes"/>
/// bytes (1 element per block for plain types, 32 or 256 for quantised ones).
/// </summary>
internal sealed record GgmlType(uint Id, string Name, int BlockSize, int BlockBytes, DType DType);
