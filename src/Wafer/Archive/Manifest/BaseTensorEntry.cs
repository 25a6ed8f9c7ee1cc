namespace Wafer.Archive.Manifest;

/// <summary>A base tensor a patched tensor is coded against (patches only).</summary>
internal sealed class BaseTensorEntry
{
    public string Name { get; set; } = "";

    /// <summary>Index into <see cref="ManifestDocument.BaseFiles"/>.</summary>
    public int File { get; set; }

    public string Dtype { get; set; } = "";

    public long[] Shape { get; set; } = [];

    /// <summary>Offset of the tensor's bytes within its base file.</summary>
    public long Offset { get; set; }

    public long Size { get; set; }

    /// <summary>XXH3-128 (seed 0) of the base tensor's bytes, 32 lower-case hex digits.</summary>
    public string Xxh128 { get; set; } = "";
}
