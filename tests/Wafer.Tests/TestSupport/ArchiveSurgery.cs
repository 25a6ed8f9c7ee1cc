using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;

namespace Wafer.Tests.TestSupport;

/// <summary>
/// Rewrites an archive's manifest and re-seals the trailer (offset, length, XXH3), so tests can present a
/// reader with a manifest that lies while every outer checksum is right.
/// </summary>
public static class ArchiveSurgery
{
    public static void RewriteManifest(string archive, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(archive);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 40));
        long length = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 32));
        JsonObject manifest = JsonNode.Parse(bytes.AsSpan((int)offset, (int)length))!.AsObject();
        edit(manifest);
        byte[] json = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        byte[] trailer = bytes[^40..];
        BinaryPrimitives.WriteInt64LittleEndian(trailer, offset);
        BinaryPrimitives.WriteInt64LittleEndian(trailer.AsSpan(8), json.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(trailer.AsSpan(16), XxHash3.HashToUInt64(json));
        using var stream = new FileStream(archive, FileMode.Create, FileAccess.Write);
        stream.Write(bytes, 0, (int)offset);
        stream.Write(json);
        stream.Write(trailer);
    }

    /// <summary>Offset and length of the manifest, read from the trailer.</summary>
    public static (long Offset, long Length) ManifestRange(string archive)
    {
        byte[] bytes = File.ReadAllBytes(archive);
        return (BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 40)), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(bytes.Length - 32)));
    }

    public static void FlipBit(string path, long offset, int bit = 0)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ (1 << bit)));
    }
}
