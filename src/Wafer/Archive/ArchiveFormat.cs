using System.Buffers.Binary;

namespace Wafer.Archive;

/// <summary>
/// The fixed-size parts of a Wafer archive (docs/FORMAT.md): a 16-byte preamble, chunk payloads aligned to
/// <see cref="Alignment"/>, the JSON manifest, and a 40-byte trailer that points at the manifest so the writer
/// can stream and a reader needs only the file's tail.
/// </summary>
internal static class ArchiveFormat
{
    public const ushort Version = 1;

    public const int PreambleLength = 16;

    public const int TrailerLength = 40;

    /// <summary>Payloads start at multiples of 64 so a raw chunk can be memory-mapped and read with aligned vector loads.</summary>
    public const int Alignment = 64;

    /// <summary>The largest manifest a reader accepts; far above any real model (a 70B model's is a few MB).</summary>
    public const long MaxManifestLength = 256L << 20;

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

    public static void WriteTrailer(Span<byte> destination, long manifestOffset, long manifestLength, ulong manifestXxh3)
    {
        destination[..TrailerLength].Clear();
        BinaryPrimitives.WriteInt64LittleEndian(destination, manifestOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], manifestLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], manifestXxh3);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[24..], Version);
        TrailerMagic.CopyTo(destination[32..]);
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
