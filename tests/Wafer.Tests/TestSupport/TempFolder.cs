namespace Wafer.Tests.TestSupport;

/// <summary>A fresh folder under the system temp path, deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Every entry name under the folder (files and folders), for "nothing was left behind" checks.</summary>
    public string[] Entries() =>
        [.. Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories).Select(p => System.IO.Path.GetRelativePath(Path, p).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
