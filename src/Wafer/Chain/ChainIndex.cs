using System.Text.Json;
using Wafer.IO;

namespace Wafer.Chain;

/// <summary>Reads, validates and atomically replaces a chain's <c>chain.json</c>.</summary>
internal static class ChainIndex
{
    public const string FileName = "chain.json";

    public const int Version = 1;

    public const int MaxDepthLimit = 64;

    private const long MaxIndexLength = 16 << 20;

    public static ChainIndexDocument Read(string chain)
    {
        string path = Path.Combine(chain, FileName);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{chain}: not a Wafer chain (no {FileName}).", path);
        }

        if (info.Length > MaxIndexLength)
        {
            throw new WaferDataException($"{path}: the chain index is {info.Length} bytes, over the {MaxIndexLength}-byte limit.");
        }

        ChainIndexDocument? index;
        try
        {
            index = JsonSerializer.Deserialize(File.ReadAllBytes(path), ChainJsonContext.Default.ChainIndexDocument);
        }
        catch (JsonException e)
        {
            throw new WaferDataException($"{path}: the chain index is not valid JSON: {e.Message}", e);
        }

        if (index is null)
        {
            throw new WaferDataException($"{path}: the chain index is empty.");
        }

        Validate(path, index);
        return index;
    }

    public static void Write(string chain, ChainIndexDocument index)
    {
        Validate(Path.Combine(chain, FileName), index);
        using StagedOutput output = StagedOutput.ForFile(Path.Combine(chain, FileName));
        using (var stream = new FileStream(output.TemporaryPath, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, index, ChainJsonContext.Default.ChainIndexDocument);
            stream.Flush(flushToDisk: true);
        }

        // The rename is the commit point: before it the old index (and every file it names) is intact.
        output.Commit(overwrite: true);
    }

    /// <summary>Number of deltas a restore of <paramref name="entry"/> applies.</summary>
    public static int Depth(ChainIndexDocument index, ChainIndexEntry entry)
    {
        int depth = 0;
        for (ChainIndexEntry current = entry; current.Base is long step; current = Find(index, step)!)
        {
            depth++;
        }

        return depth;
    }

    /// <summary>The path of <paramref name="entry"/>'s archive or patch; throws naming the step and file when the chain folder lacks it.</summary>
    public static string PathOf(string chain, ChainIndexEntry entry)
    {
        string path = Path.Combine(chain, entry.File);
        if (!File.Exists(path))
        {
            string what = entry.Kind == "delta" ? "patch" : "archive";
            throw new WaferDataException($"{chain}: the {what} of step {entry.Step}, '{entry.File}', is missing from the chain folder.");
        }

        return path;
    }

    public static ChainIndexEntry? Find(ChainIndexDocument index, long step) => index.Entries.Find(e => e.Step == step);

    private static void Validate(string path, ChainIndexDocument index)
    {
        if (index.WaferChain != Version)
        {
            throw Bad(path, $"chain version {index.WaferChain} is not supported");
        }

        if (index.MaxDepth < 0 || index.MaxDepth > MaxDepthLimit)
        {
            throw Bad(path, $"maxDepth {index.MaxDepth} is outside 0..{MaxDepthLimit}");
        }

        if (index.Entries is null || index.Entries.Count == 0)
        {
            throw Bad(path, "it lists no checkpoints");
        }

        // Order first, so a reordered index is reported as such whatever the entries' kinds.
        long previous = long.MinValue;
        foreach (ChainIndexEntry entry in index.Entries)
        {
            if (entry is null || entry.File is null || entry.Kind is null)
            {
                throw Bad(path, "an entry is incomplete");
            }

            if (entry.Step <= previous)
            {
                throw Bad(path, $"step {entry.Step} does not follow step {previous}");
            }

            previous = entry.Step;
        }

        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (ChainIndexEntry entry in index.Entries)
        {
            if (entry.File.Length == 0 || entry.File != Path.GetFileName(entry.File) || SafeRelativePath.Problem(entry.File) is not null || !files.Add(entry.File) || entry.File == FileName)
            {
                throw Bad(path, $"step {entry.Step} names an unsafe or repeated file '{entry.File}'");
            }

            bool isDelta = entry.Kind == "delta";
            if (!isDelta && entry.Kind != "anchor")
            {
                throw Bad(path, $"step {entry.Step} has unknown kind '{entry.Kind}'");
            }

            if (isDelta != entry.Base.HasValue || (isDelta && (entry.Base <= entry.Step || Find(index, entry.Base!.Value) is null)))
            {
                throw Bad(path, $"step {entry.Step}: a delta needs the step of a later checkpoint in the chain as its base, an anchor none");
            }
        }

        // Bases always point to later steps, so there are no cycles; bound the depth.
        foreach (ChainIndexEntry entry in index.Entries)
        {
            if (Depth(index, entry) > index.MaxDepth)
            {
                throw Bad(path, $"step {entry.Step} needs more than {index.MaxDepth} deltas to restore");
            }
        }
    }

    private static WaferDataException Bad(string path, string problem) => new($"{path}: bad chain index: {problem}.");
}
