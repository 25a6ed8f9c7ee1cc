namespace Wafer;

/// <summary>What <see cref="WaferPacker.Pack"/> wrote.</summary>
/// <param name="ArchivePath">The archive's final path.</param>
/// <param name="FileCount">Source files stored.</param>
/// <param name="TensorCount">Tensors found in those files.</param>
/// <param name="OriginalBytes">Total size of the source files.</param>
/// <param name="ArchiveBytes">Size of the archive.</param>
/// <param name="DeduplicatedChunks">Chunks stored once and referenced again.</param>
public sealed record PackResult(string ArchivePath, int FileCount, int TensorCount, long OriginalBytes, long ArchiveBytes, int DeduplicatedChunks);
