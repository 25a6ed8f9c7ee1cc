using Wafer.Archive.Manifest;

namespace Wafer.Archive;

/// <summary>One chunk to decode and the place in its file where its bytes go.</summary>
internal readonly record struct RestoreItem(int File, long Offset, ChunkEntry Chunk, DType DType, string What);
