namespace Wafer.Bench;

/// <summary>Locates the shared real weights: the first argument, <c>$WAFER_DATA</c>, or <c>../shared/data</c> beside the repository.</summary>
internal static class BenchData
{
    public static string? Locate(string[] args)
    {
        string? explicitFolder = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Environment.GetEnvironmentVariable("WAFER_DATA");
        if (!string.IsNullOrEmpty(explicitFolder))
        {
            return Directory.Exists(explicitFolder) ? Path.GetFullPath(explicitFolder) : null;
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Wafer.slnx")))
            {
                string candidate = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "data"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }

        return null;
    }

    public static long FolderBytes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
