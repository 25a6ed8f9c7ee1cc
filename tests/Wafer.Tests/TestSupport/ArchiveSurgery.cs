using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;
using Wafer.Archive;

namespace Wafer.Tests.TestSupport;

/// <summary>
/// Rewrites an archive's (or patch's) manifest and re-seals the trailer (offset, lengths, XXH3), so tests can
/// present a reader with a manifest that lies while every outer checksum is right. Reads both container
/// versions; writes the current one, or version 1 (plain JSON) when asked.
/// </summary>
public static class ArchiveSurgery
{
    public static void RewriteManifest(string archive, Action<JsonObject> edit) => RewriteManifest(archive, archive, edit);

    /// <summary>Writes <paramref name="source"/> to <paramref name="destination"/> with its manifest edited.</summary>
    public static void RewriteManifest(string source, string destination, Action<JsonObject> edit, bool plainVersion1 = false)
    {
        byte[] bytes = File.ReadAllBytes(source);
        (long offset, byte[] json) = ReadManifestJson(bytes);
        JsonObject manifest = JsonNode.Parse(json)!.AsObject();
        edit(manifest);
        Write(destination, bytes.AsSpan(0, (int)offset), Encoding.UTF8.GetBytes(manifest.ToJsonString()), plainVersion1);
    }

    /// <summary>Rewrites <paramref name="archive"/> in container version 1: plain JSON manifest, version 1 in preamble and trailer.</summary>
    public static void ToVersion1(string archive) => RewriteManifest(archive, archive, _ => { }, plainVersion1: true);

    /// <summary>Offset and stored length of the manifest, read from the trailer.</summary>
    public static (long Offset, long Length) ManifestRange(string archive)
    {
        byte[] bytes = File.ReadAllBytes(archive);
        return (BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 40)), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 32)));
    }

    /// <summary>The manifest's bytes as stored (the zstd frame in version 2).</summary>
    public static byte[] StoredManifest(string archive)
    {
        (long offset, long length) = ManifestRange(archive);
        return File.ReadAllBytes(archive).AsSpan((int)offset, (int)length).ToArray();
    }

    /// <summary>The manifest's JSON, decompressed as a reader does.</summary>
    public static byte[] ManifestJson(string archive) => ReadManifestJson(File.ReadAllBytes(archive)).Json;

    /// <summary>Replaces the stored manifest bytes and the trailer's fields wholesale (for lying trailers); the XXH3 is re-sealed over <paramref name="stored"/>.</summary>
    public static void ReplaceStoredManifest(string archive, byte[] stored, uint jsonLength)
    {
        byte[] bytes = File.ReadAllBytes(archive);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 40));
        byte[] trailer = bytes[^40..];
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(8), stored.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(trailer.AsSpan(16), XxHash3.HashToUInt64(stored));
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(28), jsonLength);
        using var stream = new FileStream(archive, FileMode.Create, FileAccess.Write);
        stream.Write(bytes, 0, (int)offset);
        stream.Write(stored);
        stream.Write(trailer);
    }

    public static void FlipBit(string path, long offset, int bit = 0)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ (1 << bit)));
    }

    private static (long Offset, byte[] Json) ReadManifestJson(byte[] bytes)
    {
        ReadOnlySpan<byte> trailer = bytes.AsSpan(bytes.Length - 40);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
        int length = (int)BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
        ReadOnlySpan<byte> stored = bytes.AsSpan((int)offset, length);
        return BinaryPrimitives.ReadUInt16LittleEndian(trailer[24..]) == ArchiveFormat.PlainManifestVersion
            ? (offset, stored.ToArray())
            : (offset, ArchiveFormat.DecompressManifest(stored, (int)BinaryPrimitives.ReadUInt32LittleEndian(trailer[28..]), "surgery"));
    }

    private static void Write(string destination, ReadOnlySpan<byte> payloads, byte[] json, bool plainVersion1)
    {
        byte[] stored = plainVersion1 ? json : ArchiveFormat.CompressManifest(json);
        byte[] preamble = payloads[..16].ToArray();
        byte[] trailer = new byte[40];
        ArchiveFormat.WriteTrailer(trailer, payloads.Length, stored.Length, XxHash3.HashToUInt64(stored), json.Length);
        if (plainVersion1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(preamble.AsSpan(8), ArchiveFormat.PlainManifestVersion);
            BinaryPrimitives.WriteUInt16LittleEndian(trailer.AsSpan(24), ArchiveFormat.PlainManifestVersion);
            trailer.AsSpan(26, 6).Clear();
        }

        using var stream = new FileStream(destination, FileMode.Create, FileAccess.Write);
        stream.Write(preamble);
        stream.Write(payloads[16..]);
        stream.Write(stored);
        stream.Write(trailer);
    }
}
