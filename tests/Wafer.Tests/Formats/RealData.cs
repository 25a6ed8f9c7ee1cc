namespace Wafer.Tests.Formats;

/// <summary>Locates the shared real-weights folder: WAFER_DATA, or a <c>shared/data</c> beside an ancestor of the test binaries.</summary>
public static class RealData
{
    public static string? Find(string folder)
    {
        string? root = Environment.GetEnvironmentVariable("WAFER_DATA");
        if (root is not null && Directory.Exists(Path.Combine(root, folder)))
        {
            return Path.Combine(root, folder);
        }

        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "shared", "data", folder);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
