using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json.Nodes;

namespace Wafer.Tests.Delta;

/// <summary>Rewrites the manifest of an archive or patch (fixing the trailer's length and checksum), to build lying manifests.</summary>
internal static class ManifestTamper
{
    public static void Rewrite(string source, string destination, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(source);
        ReadOnlySpan<byte> trailer = bytes.AsSpan(bytes.Length - 40);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(trailer);
        long length = BinaryPrimitives.ReadInt64LittleEndian(trailer[8..]);
        var manifest = (JsonObject)JsonNode.Parse(bytes.AsSpan((int)offset, (int)length))!;
        edit(manifest);
        byte[] json = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        byte[] newTrailer = trailer.ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(newTrailer.AsSpan(8), json.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(newTrailer.AsSpan(16), XxHash3.HashToUInt64(json));
        using var output = File.Create(destination);
        output.Write(bytes, 0, (int)offset);
        output.Write(json);
        output.Write(newTrailer);
    }
}
