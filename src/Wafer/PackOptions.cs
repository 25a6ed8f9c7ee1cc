using Wafer.Codecs;

namespace Wafer;

/// <summary>Options for <see cref="WaferPacker.Pack"/>.</summary>
public sealed class PackOptions
{
    /// <summary>Codecs the packer may use. Default <see cref="CodecChoice.Auto"/>.</summary>
    public CodecChoice Codec { get; init; } = CodecChoice.Auto;

    /// <summary>Decoded size of a chunk, 4 KiB to 64 MiB, a multiple of 64. Default 4 MiB.</summary>
    public int ChunkSize { get; init; } = Archive.ArchiveFormat.DefaultChunkSize;

    /// <summary>Worker threads; 0 means one per core. The archive's bytes do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Replace an existing archive at the output path.</summary>
    public bool Overwrite { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    internal void Validate()
    {
        Archive.ArchiveFormat.ValidateChunkSize(ChunkSize, nameof(ChunkSize));

        ArgumentOutOfRangeException.ThrowIfNegative(Threads, nameof(Threads));
    }
}
