namespace Wafer.Tests.Delta;

/// <summary>A fact that needs the shared real-weights folder; skipped, with the reason, where it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute(params string[] folders)
    {
        foreach (string folder in folders)
        {
            if (!Directory.Exists(Path.Combine(Root, folder)))
            {
                Skip = $"real weights '{folder}' not found under {Root} (set WAFER_DATA to the shared data folder)";
                return;
            }
        }
    }

    public static string Root =>
        Environment.GetEnvironmentVariable("WAFER_DATA") is { Length: > 0 } configured ? configured : FindDataFolder();

    private static string FindDataFolder()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return "/work/shared/data";
    }
}
