using System.Text.Json.Serialization;

namespace Wafer.Chain;

/// <summary>The chain's index, <c>chain.json</c> (docs/CHAIN.md).</summary>
internal sealed class ChainIndexDocument
{
    /// <summary>Index schema version.</summary>
    [JsonRequired]
    public int WaferChain { get; set; }

    /// <summary>The most deltas a restore may apply; a checkpoint that would need more stays an anchor.</summary>
    [JsonRequired]
    public int MaxDepth { get; set; }

    /// <summary>Checkpoints in the order they were added (strictly increasing steps).</summary>
    [JsonRequired]
    public List<ChainIndexEntry> Entries { get; set; } = [];
}
