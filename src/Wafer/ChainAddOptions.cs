namespace Wafer;

/// <summary>Options for <see cref="WaferChain.Add"/>.</summary>
public sealed class ChainAddOptions
{
    /// <summary>
    /// The checkpoint's training step. When null it is read from <c>trainer_state.json</c>'s <c>global_step</c>,
    /// else from the digits ending the folder name (<c>checkpoint-1200</c>).
    /// </summary>
    public long? Step { get; init; }

    /// <summary>
    /// For a new chain: the most deltas a restore may apply (default 8, at most 64). Restore time is bounded by
    /// it, whatever the chain's length; 0 stores every checkpoint as an anchor.
    /// </summary>
    public int MaxDepth { get; init; } = 8;

    /// <summary>Decoded chunk size for the archives and patches.</summary>
    public int ChunkSize { get; init; } = Archive.ArchiveFormat.DefaultChunkSize;

    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }
}
