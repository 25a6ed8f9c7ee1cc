namespace Wafer;

/// <summary>What <see cref="WaferChain.Add"/> did.</summary>
/// <param name="Step">The step added (stored as the chain's newest anchor).</param>
/// <param name="StoredBytes">Size of its archive.</param>
/// <param name="OriginalBytes">Size of its original files.</param>
/// <param name="PreviousStep">The previous newest step, if any.</param>
/// <param name="PreviousBytesBefore">That step's stored size before the add.</param>
/// <param name="PreviousBytesAfter">Its stored size after: smaller when it became a patch against the new step.</param>
/// <param name="ChainBytes">Total stored size of the chain after the add.</param>
public sealed record ChainAddResult(long Step, long StoredBytes, long OriginalBytes, long? PreviousStep, long PreviousBytesBefore, long PreviousBytesAfter, long ChainBytes);
