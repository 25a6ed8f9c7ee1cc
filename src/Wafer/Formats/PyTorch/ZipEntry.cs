namespace Wafer.Formats.PyTorch;

/// <summary>One member of a zip archive, located and bounds-checked against the file.</summary>
/// <param name="Name">The member's name as the central directory spells it.</param>
/// <param name="LocalHeaderOffset">Where the member's local file header starts.</param>
/// <param name="DataOffset">Where its (possibly compressed) bytes start, just after the local header's name and extra field.</param>
/// <param name="CompressedSize">Bytes the member occupies at <paramref name="DataOffset"/>.</param>
/// <param name="UncompressedSize">Declared size once decompressed.</param>
/// <param name="Method">Compression method; 0 is STORED (the bytes are the member itself).</param>
/// <param name="Encrypted">True when general-purpose flag bit 0 is set.</param>
internal sealed record ZipEntry(
    string Name, long LocalHeaderOffset, long DataOffset, long CompressedSize, long UncompressedSize, int Method, bool Encrypted)
{
    /// <summary>End of the member's bytes (exclusive); a data descriptor, if any, follows.</summary>
    public long DataEnd => DataOffset + CompressedSize;

    /// <summary>True when the member's bytes in the file are exactly its content.</summary>
    public bool IsStoredPlain => Method == 0 && !Encrypted && CompressedSize == UncompressedSize;
}
