namespace Wafer.Bench;

/// <summary>The corpus benchmarks, by name. Each suite prints its table for every model folder it finds.</summary>
internal static class CorpusSuites
{
    private static readonly Dictionary<string, Func<string[], int>> s_suites = new(StringComparer.Ordinal)
    {
        ["archive"] = ArchiveCorpusBenchmark.Run,
        ["chain"] = ChainCorpusBenchmark.Run,
        ["measure"] = ChildMeasurement.Measure,
        ["codecs"] = CodecCorpusBenchmark.Run,
        ["patch"] = PatchCorpusBenchmark.Run,
    };

    public static bool TryRun(string name, string[] args, out int exitCode)
    {
        if (s_suites.TryGetValue(name, out Func<string[], int>? suite))
        {
            exitCode = suite(args);
            return true;
        }

        exitCode = 0;
        return false;
    }
}
