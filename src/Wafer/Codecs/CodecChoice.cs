namespace Wafer.Codecs;

/// <summary>Which codecs <c>pack</c> may use for a chunk.</summary>
public enum CodecChoice
{
    /// <summary>The best codec for each chunk, chosen by cheap estimation (the default).</summary>
    Auto,
    /// <summary>zstd for every chunk (raw where zstd does not shrink it).</summary>
    Zstd,
    /// <summary>Every chunk stored as it is.</summary>
    Raw,
}
