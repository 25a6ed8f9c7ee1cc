namespace Wafer.Chain;

/// <summary>Restores and verifies chain checkpoints by applying patches from the nearest anchor down.</summary>
internal static class ChainReader
{
    public static void Restore(string chain, ChainIndexDocument index, long step, string output, UnpackOptions options, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        ChainIndexEntry target = ChainIndex.Find(index, step)
            ?? throw new ArgumentException($"{chain}: has no step {step} (steps: {string.Join(", ", index.Entries.Select(e => e.Step))}).", nameof(step));
        List<ChainIndexEntry> path = PathFromAnchor(index, target);

        // Every file of the walk is looked for first, so a chain folder that lost one fails before anything is written.
        List<string> files = [.. path.Select(entry => ChainIndex.PathOf(chain, entry))];
        string anchorPath = files[0];
        if (path.Count == 1)
        {
            using WaferArchive archive = WaferArchive.Open(anchorPath);
            archive.Unpack(output, options, progress, cancellationToken);
            return;
        }

        string scratch = output.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + $".{Guid.NewGuid().ToString("N")[..8]}.wafer-partial";
        try
        {
            // The anchor archive is the first base; each intermediate checkpoint lives only in the scratch folder.
            string currentBase = anchorPath;
            for (int i = 1; i < path.Count; i++)
            {
                bool last = i == path.Count - 1;
                string destination = last ? output : Path.Combine(scratch, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                WaferPatch.Apply(currentBase, files[i], destination, new ApplyOptions { Threads = options.Threads, Overwrite = last && options.Overwrite }, last ? progress : null, cancellationToken);
                if (i > 1)
                {
                    Directory.Delete(currentBase, recursive: true);
                }

                currentBase = destination;
            }
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    public static VerifyReport Verify(string chain, ChainIndexDocument index, UnpackOptions options, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        long checkedBytes = 0;
        string scratch = Path.Combine(Path.GetTempPath(), "wafer-chain-verify-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // Walk each anchor and the run of deltas hanging off it, newest to oldest, applying each patch once.
            for (int i = index.Entries.Count - 1; i >= 0; i--)
            {
                ChainIndexEntry anchor = index.Entries[i];
                if (anchor.Kind != "anchor")
                {
                    continue;
                }

                string anchorPath = Path.Combine(chain, anchor.File);
                if (!VerifyAnchor(chain, anchor, options, problems, cancellationToken))
                {
                    problems.AddRange(index.Entries.Take(i).Reverse().TakeWhile(e => e.Kind == "delta").Select(e => $"step {e.Step}: cannot be restored, it builds on step {anchor.Step}"));
                    continue;
                }

                checkedBytes += anchor.OriginalBytes;
                string currentBase = anchorPath;
                for (int j = i - 1; j >= 0 && index.Entries[j].Kind == "delta"; j--)
                {
                    ChainIndexEntry delta = index.Entries[j];
                    string destination = Path.Combine(scratch, delta.Step.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    try
                    {
                        WaferPatch.Apply(currentBase, ChainIndex.PathOf(chain, delta), destination, new ApplyOptions { Threads = options.Threads }, null, cancellationToken);
                    }
                    catch (Exception e) when (e is WaferDataException or IOException)
                    {
                        problems.Add($"step {delta.Step} ({delta.File}): {e.Message}");
                        problems.AddRange(index.Entries.Take(j).Reverse().TakeWhile(e => e.Kind == "delta").Select(e => $"step {e.Step}: cannot be restored, it builds on step {delta.Step}"));
                        break;
                    }

                    if (currentBase != anchorPath)
                    {
                        Directory.Delete(currentBase, recursive: true);
                    }

                    checkedBytes += delta.OriginalBytes;
                    currentBase = destination;
                }
            }
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        return new VerifyReport(checkedBytes, problems);
    }

    private static bool VerifyAnchor(string chain, ChainIndexEntry anchor, UnpackOptions options, List<string> problems, CancellationToken cancellationToken)
    {
        try
        {
            using WaferArchive archive = WaferArchive.Open(ChainIndex.PathOf(chain, anchor));
            VerifyReport report = archive.Verify(options, null, cancellationToken);
            problems.AddRange(report.Problems.Select(p => $"step {anchor.Step}: {p}"));
            return report.IsIntact;
        }
        catch (Exception e) when (e is WaferDataException or IOException)
        {
            problems.Add($"step {anchor.Step} ({anchor.File}): {e.Message}");
            return false;
        }
    }

    /// <summary>The anchor the entry builds on, then each delta down to the entry itself.</summary>
    private static List<ChainIndexEntry> PathFromAnchor(ChainIndexDocument index, ChainIndexEntry entry)
    {
        var path = new List<ChainIndexEntry> { entry };
        while (path[^1].Base is long baseStep)
        {
            path.Add(ChainIndex.Find(index, baseStep)!);
        }

        path.Reverse();
        return path;
    }
}
