namespace Wafer.Archive.Manifest;

/// <summary>One stored chunk: where its payload lies, how it is coded, and the checksum of its decoded bytes.</summary>
internal sealed class ChunkEntry
{
    /// <summary>Absolute offset of the payload in the archive.</summary>
    public long At { get; set; }

    /// <summary>Payload length in the archive.</summary>
    public int Stored { get; set; }

    /// <summary>Decoded length.</summary>
    public int Size { get; set; }

    /// <summary>Codec name (see docs/CODECS.md).</summary>
    public string Codec { get; set; } = "raw";

    /// <summary>XXH3-64 (seed 0) of the decoded bytes, 16 lower-case hex digits.</summary>
    public string Xxh3 { get; set; } = "";
}
