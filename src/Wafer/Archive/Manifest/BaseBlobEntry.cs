namespace Wafer.Archive.Manifest;

/// <summary>A range of non-tensor bytes of a base file that a patched blob is coded against (patches only).</summary>
internal sealed class BaseBlobEntry
{
    /// <summary>Index into <see cref="ManifestDocument.BaseFiles"/>.</summary>
    public int File { get; set; }

    public long Offset { get; set; }

    public long Size { get; set; }
}
