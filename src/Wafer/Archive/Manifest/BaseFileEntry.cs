namespace Wafer.Archive.Manifest;

/// <summary>A base file a patch refers to (patches only): it must be present with exactly this size and content.</summary>
internal sealed class BaseFileEntry
{
    /// <summary>Path relative to the base folder, '/'-separated.</summary>
    public string Path { get; set; } = "";

    public long Size { get; set; }

    /// <summary>SHA-256 of the whole base file, lower-case hex: the hash a model hub publishes, for people comparing files.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>XXH3-128 (seed 0) of the whole base file, 32 lower-case hex digits: what <c>apply</c> checks the base by.</summary>
    public string Xxh128 { get; set; } = "";
}
