using System.Buffers.Binary;
using Wafer.Codecs;
using ZstdSharp;

namespace Wafer.Archive;

/// <summary>
/// The fixed-size parts of a Wafer archive (docs/FORMAT.md): a 16-byte preamble, chunk payloads aligned to
/// <see cref="Alignment"/>, the manifest (JSON, zstd-compressed from version 2), and a 40-byte trailer that points
/// at the manifest so the writer can stream and a reader needs only the file's tail.
/// </summary>
internal static class ArchiveFormat
{
    /// <summary>The container version this build writes: 2 stores the manifest as one zstd frame.</summary>
    public const ushort Version = 2;

    /// <summary>The first container version, whose manifest is plain JSON; still read.</summary>
    public const ushort PlainManifestVersion = 1;

    /// <summary>The manifest's own schema version (its <c>wafer</c> property), the same in both container versions.</summary>
    public const int ManifestSchema = 1;

    public const int PreambleLength = 16;

    public const int TrailerLength = 40;

    /// <summary>Payloads start at multiples of 64 so a raw chunk can be memory-mapped and read with aligned vector loads.</summary>
    public const int Alignment = 64;

    /// <summary>The largest manifest a reader accepts, stored or as JSON; far above any real model (a 70B model's JSON is a few MB).</summary>
    public const long MaxManifestLength = 256L << 20;

    /// <summary>
    /// The manifest's zstd level. Level 9 compresses a 100 KB manifest in about 1 ms; level 19 takes about 50 ms (several
    /// times the rest of a small patch's diff) for 15% fewer bytes, about 0.1% of a small patch.
    /// </summary>
    private const int ManifestLevel = 9;

    /// <summary>The largest decoded chunk a reader accepts, bounding every allocation a manifest can ask for.</summary>
    public const int MaxChunkSize = 64 << 20;

    public const int MinChunkSize = 4 << 10;

    public const int DefaultChunkSize = 4 << 20;

    /// <summary>"WAFER\r\n\x1A": the CR LF and Ctrl-Z catch text-mode transfers, as PNG's signature does.</summary>
    public static ReadOnlySpan<byte> PreambleMagic => "WAFER\r\n\u001a"u8;

    public static ReadOnlySpan<byte> TrailerMagic => "WAFEREND"u8;

    public static void WritePreamble(Span<byte> destination)
    {
        destination[..PreambleLength].Clear();
        PreambleMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], Version);
    }

    /// <summary>Writes a version-2 trailer: where the stored (compressed) manifest lies, its XXH3, and its length as JSON.</summary>
    public static void WriteTrailer(Span<byte> destination, long manifestOffset, long manifestLength, ulong manifestXxh3, int jsonLength)
    {
        destination[..TrailerLength].Clear();
        BinaryPrimitives.WriteInt64LittleEndian(destination, manifestOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], manifestLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], manifestXxh3);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[24..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], (uint)jsonLength);
        TrailerMagic.CopyTo(destination[32..]);
    }

    /// <summary>The manifest JSON as a version-2 archive stores it: one zstd frame that states its content size.</summary>
    public static byte[] CompressManifest(ReadOnlySpan<byte> json)
    {
        using var compressor = new Compressor(ManifestLevel);
        return compressor.Wrap(json).ToArray();
    }

    /// <summary>
    /// Decompresses a stored manifest into exactly <paramref name="jsonLength"/> bytes (the trailer's figure, already
    /// capped); throws naming <paramref name="path"/> when the frame is corrupt or decodes to another length.
    /// </summary>
    public static byte[] DecompressManifest(ReadOnlySpan<byte> stored, int jsonLength, string path)
    {
        // The frame states its content size (this writer always records it); it must agree with the trailer before
        // anything is allocated, so a hostile trailer cannot ask for the cap with a few bytes of frame.
        ulong declared;
        try
        {
            declared = Decompressor.GetDecompressedSize(stored);
        }
        catch (ZstdException e)
        {
            throw new WaferDataException($"{path}: the manifest is not a zstd frame that states its size: {e.Message}", e);
        }

        if (declared != (ulong)jsonLength)
        {
            throw new WaferDataException($"{path}: the manifest's zstd frame declares {declared} bytes, the trailer {jsonLength}.");
        }

        byte[] json = new byte[jsonLength];
        try
        {
            ZstdCodec.Decompress(stored, json);
        }
        catch (WaferDataException e)
        {
            throw new WaferDataException($"{path}: the manifest does not decompress: {e.Message}.", e);
        }

        return json;
    }

    /// <summary>Throws when <paramref name="chunkSize"/> is not a multiple of 64 between the limits.</summary>
    public static void ValidateChunkSize(int chunkSize, string parameterName)
    {
        if (chunkSize < MinChunkSize || chunkSize > MaxChunkSize || chunkSize % 64 != 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, chunkSize, "Chunk size must be a multiple of 64 between 4 KiB and 64 MiB.");
        }
    }

    /// <summary>Padding needed after <paramref name="position"/> to reach the next aligned offset.</summary>
    public static int PaddingAfter(long position) => (int)((Alignment - (position % Alignment)) % Alignment);
}
