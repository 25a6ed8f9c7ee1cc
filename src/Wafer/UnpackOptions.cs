namespace Wafer;

/// <summary>Options for <see cref="WaferArchive.Unpack"/> and <see cref="WaferArchive.Verify"/>.</summary>
public sealed class UnpackOptions
{
    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Allow restoring into a folder that already holds files, replacing those the archive contains.</summary>
    public bool Overwrite { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
