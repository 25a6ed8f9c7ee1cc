namespace Wafer;

/// <summary>Progress of a long operation, in source (decoded) bytes.</summary>
/// <param name="BytesDone">Bytes processed so far.</param>
/// <param name="BytesTotal">Bytes the operation will process.</param>
/// <param name="CurrentFile">The file being processed, relative to the model folder.</param>
public readonly record struct WaferProgress(long BytesDone, long BytesTotal, string CurrentFile);
