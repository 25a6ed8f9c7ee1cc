using Wafer.Delta;

namespace Wafer;

/// <summary>
/// Bit-exact patches: ship a fine-tune or an update as a small diff against a base the user already has.
/// A patch is a Wafer archive of kind <c>patch</c> (docs/PATCH.md).
/// </summary>
public static class WaferPatch
{
    /// <summary>
    /// Writes a patch that rebuilds <paramref name="targetModel"/> from <paramref name="baseModel"/>. Either may be
    /// a model folder (or one file) or a <c>.wafer</c> archive. The patch is written under a temporary name and
    /// renamed only when complete.
    /// </summary>
    /// <exception cref="WaferDataException">A model is malformed (e.g. a bad safetensors header).</exception>
    /// <exception cref="IOException">Reading a model or writing the patch failed, or the patch exists.</exception>
    public static PatchResult Diff(string baseModel, string targetModel, string patchPath, PatchOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseModel);
        ArgumentException.ThrowIfNullOrEmpty(targetModel);
        ArgumentException.ThrowIfNullOrEmpty(patchPath);
        options ??= new PatchOptions();
        options.Validate();
        return PatchWriter.Run(baseModel, targetModel, patchPath, options, progress, cancellationToken);
    }

    /// <summary>
    /// Rebuilds the target of <paramref name="patchPath"/> from <paramref name="baseModel"/> (folder or archive)
    /// into <paramref name="output"/>: a folder, or an archive with <see cref="ApplyOptions.AsArchive"/>. Every base
    /// file the patch needs is checked (size and XXH3-128) before anything is written; every chunk and every rebuilt
    /// file (SHA-256) is verified, and a failure leaves nothing under the output name.
    /// </summary>
    /// <exception cref="WaferDataException">The patch is malformed, or the base is not the one the patch was made against (the message names the file or tensor).</exception>
    /// <exception cref="WaferIntegrityException">A chunk of the patch or a rebuilt file does not match its checksum.</exception>
    public static ApplyResult Apply(string baseModel, string patchPath, string output, ApplyOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseModel);
        ArgumentException.ThrowIfNullOrEmpty(patchPath);
        ArgumentException.ThrowIfNullOrEmpty(output);
        options ??= new ApplyOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, nameof(options));
        return PatchApplier.Run(baseModel, patchPath, output, options, progress, cancellationToken);
    }
}
