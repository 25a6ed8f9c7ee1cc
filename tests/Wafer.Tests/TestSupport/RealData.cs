namespace Wafer.Tests.TestSupport;

/// <summary>Where the shared real weights live: <c>$WAFER_DATA</c>, else <c>../shared/data</c> beside the repository.</summary>
public static class RealData
{
    public static string? Folder { get; } = Locate();

    public static string SkipReason => "real weights not found: set WAFER_DATA or place the shared data at ../shared/data beside the repository";

    /// <summary>The full path of <paramref name="relative"/> inside the data folder, or null when it is not there.</summary>
    public static string? Find(string relative)
    {
        string? path = Folder is null ? null : System.IO.Path.Combine(Folder, relative);
        return path is not null && (Directory.Exists(path) || File.Exists(path)) ? path : null;
    }

    public static string PathOf(string relative) => System.IO.Path.Combine(Folder ?? throw new InvalidOperationException(SkipReason), relative);

    private static string? Locate()
    {
        string? configured = Environment.GetEnvironmentVariable("WAFER_DATA");
        if (!string.IsNullOrEmpty(configured))
        {
            return Directory.Exists(configured) ? configured : null;
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Wafer.slnx")))
            {
                string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory.FullName, "..", "shared", "data"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }

        return null;
    }
}
