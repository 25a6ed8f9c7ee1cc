namespace Wafer.Archive.Manifest;

/// <summary>A source file: restored by writing its tensors and blobs at their offsets.</summary>
internal sealed class FileEntry
{
    /// <summary>Path relative to the packed folder, '/'-separated.</summary>
    public string Path { get; set; } = "";

    public long Size { get; set; }

    /// <summary>SHA-256 of the whole original file, lower-case hex.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>The format the packer recognised: safetensors, pytorch, gguf or blob.</summary>
    public string Format { get; set; } = "blob";

    /// <summary>Patches only: unchanged, modified, renamed or added.</summary>
    public string? Change { get; set; }
}
