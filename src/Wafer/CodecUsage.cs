namespace Wafer;

/// <summary>How much of an archive one codec holds for one dtype.</summary>
/// <param name="DType">The dtype name, or <c>bytes</c> for non-tensor data.</param>
/// <param name="Codec">The codec name.</param>
/// <param name="Chunks">Chunks coded with it.</param>
/// <param name="OriginalBytes">Their decoded size.</param>
/// <param name="StoredBytes">Their stored size, each shared payload counted once.</param>
public sealed record CodecUsage(string DType, string Codec, long Chunks, long OriginalBytes, long StoredBytes);
