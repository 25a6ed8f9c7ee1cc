using System.Text.Json.Serialization;

namespace Wafer.Chain;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    MaxDepth = 8,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChainIndexDocument))]
internal sealed partial class ChainJsonContext : JsonSerializerContext
{
}
