using System.Globalization;

namespace Wafer.Chain;

/// <summary>
/// One <c>chain add</c>: pack the new checkpoint as the newest anchor, then try to turn the previous newest
/// anchor into a patch against it. New files get fresh names; the index rename commits; files the new index
/// no longer names are deleted last.
/// </summary>
internal static class ChainWriter
{
    public static ChainAddResult Add(string chain, string checkpoint, ChainAddOptions options, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        chain = Path.TrimEndingDirectorySeparator(Path.GetFullPath(chain));
        if (File.Exists(chain))
        {
            throw new IOException($"{chain}: is a file; a chain is a folder.");
        }

        Directory.CreateDirectory(chain);
        using ChainLock chainLock = ChainLock.Acquire(chain);
        bool isNew = !File.Exists(Path.Combine(chain, ChainIndex.FileName));
        ChainIndexDocument index = isNew
            ? new ChainIndexDocument { WaferChain = ChainIndex.Version, MaxDepth = options.MaxDepth }
            : ChainIndex.Read(chain);

        long step = CheckpointStep.Resolve(checkpoint, options.Step);
        ChainIndexEntry? previous = index.Entries.Count > 0 ? index.Entries[^1] : null;
        if (previous is not null && step <= previous.Step)
        {
            throw new ArgumentException($"{checkpoint}: step {step} is not after the chain's newest step {previous.Step}; checkpoints are added in training order.", nameof(checkpoint));
        }

        // The newest checkpoint is re-coded against the new one: a chain folder that lost its file fails here, before any work.
        string? previousPath = previous is { Kind: "anchor" } ? ChainIndex.PathOf(chain, previous) : null;
        string token = Guid.NewGuid().ToString("N")[..8];
        string anchorFile = string.Create(CultureInfo.InvariantCulture, $"step-{step}.{token}.wafer");
        PackResult packed = WaferPacker.Pack(checkpoint, Path.Combine(chain, anchorFile), new PackOptions { ChunkSize = options.ChunkSize, Threads = options.Threads }, progress, cancellationToken);
        var added = new ChainIndexEntry
        {
            Step = step,
            Kind = "anchor",
            File = anchorFile,
            StoredBytes = packed.ArchiveBytes,
            OriginalBytes = packed.OriginalBytes,
            Files = packed.FileCount,
            Source = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpoint))),
        };

        var updated = new ChainIndexDocument { WaferChain = index.WaferChain, MaxDepth = index.MaxDepth, Entries = [.. index.Entries, added] };
        long previousBefore = previous?.StoredBytes ?? 0;
        long previousAfter = previousBefore;
        if (previous is { Kind: "anchor" } && previousPath is not null && DeltaRunBefore(index) + 1 <= index.MaxDepth)
        {
            string patchFile = string.Create(CultureInfo.InvariantCulture, $"step-{previous.Step}.{token}.wpatch");
            string patchPath = Path.Combine(chain, patchFile);
            PatchResult patch = WaferPatch.Diff(
                Path.Combine(chain, added.File),
                previousPath,
                patchPath,
                new PatchOptions { ChunkSize = options.ChunkSize, Threads = options.Threads },
                null,
                cancellationToken);
            if (patch.PatchBytes < previous.StoredBytes)
            {
                updated.Entries[^2] = new ChainIndexEntry
                {
                    Step = previous.Step,
                    Kind = "delta",
                    Base = step,
                    File = patchFile,
                    StoredBytes = patch.PatchBytes,
                    OriginalBytes = previous.OriginalBytes,
                    Files = previous.Files,
                    Source = previous.Source,
                };
                previousAfter = patch.PatchBytes;
            }
        }

        ChainIndex.Write(chain, updated);
        RemoveUnreferenced(chain, updated);
        return new ChainAddResult(step, added.StoredBytes, added.OriginalBytes, previous?.Step, previousBefore, previousAfter, updated.Entries.Sum(e => e.StoredBytes));
    }

    /// <summary>How many deltas directly precede the newest entry, i.e. depend on it through the chain of bases.</summary>
    private static int DeltaRunBefore(ChainIndexDocument index)
    {
        int run = 0;
        for (int i = index.Entries.Count - 2; i >= 0 && index.Entries[i].Kind == "delta"; i--)
        {
            run++;
        }

        return run;
    }

    /// <summary>Deletes chain files the index does not name: replaced anchors, and leftovers of killed adds.</summary>
    private static void RemoveUnreferenced(string chain, ChainIndexDocument index)
    {
        var keep = index.Entries.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(chain))
        {
            string name = Path.GetFileName(path);
            bool ours = name.StartsWith("step-", StringComparison.Ordinal) || name.EndsWith(".wafer-partial", StringComparison.Ordinal);
            if (ours && !keep.Contains(name))
            {
                File.Delete(path);
            }
        }
    }
}
