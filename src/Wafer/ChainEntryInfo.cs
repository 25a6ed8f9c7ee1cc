namespace Wafer;

/// <summary>One checkpoint of a chain, as <see cref="WaferChain.List"/> reports it.</summary>
/// <param name="Step">The training step.</param>
/// <param name="IsAnchor">True for a standalone archive; false for a patch against <paramref name="BaseStep"/>.</param>
/// <param name="BaseStep">For a delta, the later step its patch applies to.</param>
/// <param name="Depth">How many patches restoring it applies (0 for an anchor).</param>
/// <param name="StoredBytes">Bytes it occupies in the chain.</param>
/// <param name="OriginalBytes">Size of its original files.</param>
/// <param name="FileCount">Number of original files.</param>
/// <param name="Source">The folder name it was added from.</param>
public sealed record ChainEntryInfo(long Step, bool IsAnchor, long? BaseStep, int Depth, long StoredBytes, long OriginalBytes, int FileCount, string Source);
