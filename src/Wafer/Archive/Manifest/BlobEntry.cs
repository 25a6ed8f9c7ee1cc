namespace Wafer.Archive.Manifest;

/// <summary>Non-tensor bytes of a source file (headers, padding, whole unknown files), kept verbatim.</summary>
internal sealed class BlobEntry
{
    /// <summary>Index into <see cref="ManifestDocument.Files"/>.</summary>
    public int File { get; set; }

    public long Offset { get; set; }

    public long Size { get; set; }

    public List<ChunkEntry> Chunks { get; set; } = [];

    /// <summary>Patches only: index into <see cref="ManifestDocument.BaseBlobs"/> of the bytes this blob is coded against.</summary>
    public int? Base { get; set; }
}
