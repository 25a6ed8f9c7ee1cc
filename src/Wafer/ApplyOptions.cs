namespace Wafer;

/// <summary>Options for <see cref="WaferPatch.Apply"/>.</summary>
public sealed class ApplyOptions
{
    /// <summary>Write the rebuilt model as one <c>.wafer</c> archive instead of a folder.</summary>
    public bool AsArchive { get; init; }

    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Restore into a non-empty folder, or replace an existing archive.</summary>
    public bool Overwrite { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
