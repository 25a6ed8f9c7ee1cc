using System.Text.Json.Serialization;

namespace Wafer.Archive.Manifest;

/// <summary>Source-generated JSON (de)serialisation of the manifest: camelCase, no reflection, fixed property order.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = false,
    MaxDepth = 16,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ManifestDocument))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext
{
}
