namespace Wafer;

/// <summary>How many tensors (or files) of the target a patch found in each state relative to the base.</summary>
/// <param name="Unchanged">Byte-identical, same name.</param>
/// <param name="Modified">Same name, different bytes (reshaped ones included).</param>
/// <param name="Reshaped">Of <paramref name="Modified"/>, those whose shape changed.</param>
/// <param name="Added">Only in the target.</param>
/// <param name="Removed">Only in the base.</param>
/// <param name="Renamed">Byte-identical to a base item under another name (or moved to another file).</param>
public sealed record PatchChanges(int Unchanged, int Modified, int Reshaped, int Added, int Removed, int Renamed);
