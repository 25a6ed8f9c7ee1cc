namespace Wafer.Archive.Manifest;

/// <summary>A base file a patch refers to (patches only): it must be present with exactly this size and SHA-256.</summary>
internal sealed class BaseFileEntry
{
    /// <summary>Path relative to the base folder, '/'-separated.</summary>
    public string Path { get; set; } = "";

    public long Size { get; set; }

    /// <summary>SHA-256 of the whole base file, lower-case hex.</summary>
    public string Sha256 { get; set; } = "";
}
