namespace Wafer.IO;

/// <summary>
/// Writes an output under a temporary sibling name and moves it to its final name only on
/// <see cref="Commit"/>; disposing without committing deletes the temporary. A killed process leaves at
/// most a clearly named <c>.wafer-partial</c> file, never a half-written file under the final name.
/// </summary>
internal sealed class StagedOutput : IDisposable
{
    private bool _committed;

    private StagedOutput(string finalPath, string temporaryPath, bool isDirectory)
    {
        FinalPath = finalPath;
        TemporaryPath = temporaryPath;
        IsDirectory = isDirectory;
    }

    public string FinalPath { get; }

    public string TemporaryPath { get; }

    public bool IsDirectory { get; }

    /// <summary>Reserves a temporary file beside <paramref name="finalPath"/>.</summary>
    public static StagedOutput ForFile(string finalPath)
    {
        string full = Path.GetFullPath(finalPath);
        string? directory = Path.GetDirectoryName(full);
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        return new StagedOutput(full, TemporaryName(full), isDirectory: false);
    }

    /// <summary>Creates a temporary directory beside <paramref name="finalPath"/>.</summary>
    public static StagedOutput ForDirectory(string finalPath)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(finalPath));
        string temporary = TemporaryName(full);
        Directory.CreateDirectory(temporary);
        return new StagedOutput(full, temporary, isDirectory: true);
    }

    /// <summary>Moves the temporary to the final name, replacing a file there when <paramref name="overwrite"/>.</summary>
    public void Commit(bool overwrite)
    {
        if (IsDirectory)
        {
            Directory.Move(TemporaryPath, FinalPath);
        }
        else
        {
            File.Move(TemporaryPath, FinalPath, overwrite);
        }

        _committed = true;
    }

    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        try
        {
            if (IsDirectory)
            {
                if (Directory.Exists(TemporaryPath))
                {
                    Directory.Delete(TemporaryPath, recursive: true);
                }
            }
            else
            {
                File.Delete(TemporaryPath);
            }
        }
        catch (IOException)
        {
            // Best effort: the partial name already tells the user what it is.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string TemporaryName(string full) =>
        $"{full}.{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.wafer-partial";
}
