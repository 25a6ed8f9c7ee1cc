using Wafer.Chain;

namespace Wafer;

/// <summary>
/// A training run's checkpoints stored as reverse deltas (docs/CHAIN.md). The newest checkpoint is always a
/// plain archive; each older one is a patch against the checkpoint after it, or an anchor archive when a
/// patch would not be smaller or restoring it would need more than the chain's <c>maxDepth</c> patches.
/// Any checkpoint restores byte-identical, applying at most <c>maxDepth</c> patches whatever the chain's length.
/// </summary>
public static class WaferChain
{
    /// <summary>Appends <paramref name="checkpoint"/> (a folder or file) to the chain folder <paramref name="chain"/>, creating it if new.</summary>
    /// <remarks>Safe to kill at any point: the chain's index is replaced atomically, and files it names are removed only after.</remarks>
    public static ChainAddResult Add(string chain, string checkpoint, ChainAddOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(chain);
        ArgumentException.ThrowIfNullOrEmpty(checkpoint);
        options ??= new ChainAddOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxDepth, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxDepth, ChainIndex.MaxDepthLimit, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, nameof(options));
        Archive.ArchiveFormat.ValidateChunkSize(options.ChunkSize, nameof(options));
        return ChainWriter.Add(chain, checkpoint, options, progress, cancellationToken);
    }

    /// <summary>The chain's checkpoints, oldest first.</summary>
    public static IReadOnlyList<ChainEntryInfo> List(string chain)
    {
        ArgumentException.ThrowIfNullOrEmpty(chain);
        ChainIndexDocument index = ChainIndex.Read(chain);
        return [.. index.Entries.Select(e => new ChainEntryInfo(e.Step, e.Kind == "anchor", e.Base, ChainIndex.Depth(index, e), e.StoredBytes, e.OriginalBytes, e.Files, e.Source))];
    }

    /// <summary>Restores checkpoint <paramref name="step"/> into the folder <paramref name="output"/>, byte-identical.</summary>
    /// <exception cref="ArgumentException">The chain has no such step.</exception>
    public static void Get(string chain, long step, string output, UnpackOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(chain);
        ArgumentException.ThrowIfNullOrEmpty(output);
        ChainReader.Restore(chain, ChainIndex.Read(chain), step, output, options ?? new UnpackOptions(), progress, cancellationToken);
    }

    /// <summary>
    /// Checks the index, then restores every checkpoint (walking each anchor's patches in order, so each is
    /// applied once) and verifies every chunk and file checksum. The report names each step that fails.
    /// </summary>
    public static VerifyReport Verify(string chain, UnpackOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(chain);
        return ChainReader.Verify(chain, ChainIndex.Read(chain), options ?? new UnpackOptions(), cancellationToken);
    }
}
