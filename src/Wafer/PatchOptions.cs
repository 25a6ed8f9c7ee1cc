namespace Wafer;

/// <summary>Options for <see cref="WaferPatch.Diff"/>.</summary>
public sealed class PatchOptions
{
    /// <summary>Decoded size of a chunk, 4 KiB to 64 MiB, a multiple of 64. Default 4 MiB.</summary>
    public int ChunkSize { get; init; } = Archive.ArchiveFormat.DefaultChunkSize;

    /// <summary>Worker threads; 0 means one per core. The patch's bytes do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Replace an existing patch at the output path.</summary>
    public bool Overwrite { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    internal void Validate()
    {
        Archive.ArchiveFormat.ValidateChunkSize(ChunkSize, nameof(ChunkSize));

        ArgumentOutOfRangeException.ThrowIfNegative(Threads, nameof(Threads));
    }
}
