using System.Text.Json.Serialization;

namespace Wafer.Chain;

/// <summary>One checkpoint of a chain: a standalone archive (anchor) or a patch against a later checkpoint.</summary>
internal sealed class ChainIndexEntry
{
    [JsonRequired]
    public long Step { get; set; }

    /// <summary><c>anchor</c> or <c>delta</c>.</summary>
    [JsonRequired]
    public string Kind { get; set; } = "anchor";

    /// <summary>For a delta, the step of the checkpoint its patch is applied to.</summary>
    public long? Base { get; set; }

    /// <summary>The entry's file inside the chain folder (a plain file name).</summary>
    [JsonRequired]
    public string File { get; set; } = "";

    /// <summary>Size of <see cref="File"/>.</summary>
    public long StoredBytes { get; set; }

    /// <summary>Total size of the checkpoint's original files.</summary>
    public long OriginalBytes { get; set; }

    public int Files { get; set; }

    /// <summary>The name of the folder the checkpoint was added from (informational).</summary>
    public string Source { get; set; } = "";
}
