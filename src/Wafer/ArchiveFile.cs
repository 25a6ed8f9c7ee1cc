namespace Wafer;

/// <summary>A file stored in an archive.</summary>
/// <param name="Path">Path relative to the packed folder, '/'-separated.</param>
/// <param name="Size">Original size in bytes.</param>
/// <param name="Sha256">SHA-256 of the original file, lower-case hex.</param>
/// <param name="Format">safetensors, pytorch, gguf or blob.</param>
public sealed record ArchiveFile(string Path, long Size, string Sha256, string Format);
