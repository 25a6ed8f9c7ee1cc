namespace Wafer;

/// <summary>What <see cref="WaferPatch.Diff"/> wrote.</summary>
/// <param name="PatchPath">The patch's final path.</param>
/// <param name="PatchBytes">Size of the patch.</param>
/// <param name="TargetBytes">Total size of the target's files.</param>
/// <param name="Tensors">Tensor changes.</param>
/// <param name="Files">File changes.</param>
public sealed record PatchResult(string PatchPath, long PatchBytes, long TargetBytes, PatchChanges Tensors, PatchChanges Files);
