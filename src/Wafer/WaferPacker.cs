using Wafer.Archive;

namespace Wafer;

/// <summary>Packs a model folder (or one file) into a Wafer archive.</summary>
public static class WaferPacker
{
    /// <summary>
    /// Packs every file under <paramref name="source"/> into the archive <paramref name="archivePath"/>. The
    /// archive is written under a temporary name and renamed only when complete.
    /// </summary>
    /// <exception cref="WaferDataException">A source file is malformed (e.g. a bad safetensors header) or is a symbolic link.</exception>
    /// <exception cref="IOException">Reading the source or writing the archive failed, or the archive exists.</exception>
    public static PackResult Pack(string source, string archivePath, PackOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        options ??= new PackOptions();
        options.Validate();
        return PackJob.Run(source, archivePath, options, progress, cancellationToken);
    }
}
