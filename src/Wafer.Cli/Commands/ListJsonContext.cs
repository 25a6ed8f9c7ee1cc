using System.Text.Json.Serialization;

namespace Wafer.Cli.Commands;

/// <summary>Source-generated JSON for the CLI's ad-hoc listings.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<Dictionary<string, object?>>))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class ListJsonContext : JsonSerializerContext
{
}
