namespace Wafer;

/// <summary>What <see cref="WaferPatch.Apply"/> wrote.</summary>
/// <param name="OutputPath">The rebuilt model folder or archive.</param>
/// <param name="FileCount">Files rebuilt.</param>
/// <param name="TargetBytes">Total size of the rebuilt files.</param>
public sealed record ApplyResult(string OutputPath, int FileCount, long TargetBytes);
