namespace Wafer.IO;

/// <summary>
/// Lists the regular files under a model folder in a fixed order (ordinal, '/'-separated relative paths),
/// refusing symbolic links: following one could pack files from outside the folder, and restoring one
/// could write outside the output folder.
/// </summary>
internal static class SourceTree
{
    public static List<(string Relative, string FullPath)> Enumerate(string root, string? exclude)
    {
        string fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var info = new DirectoryInfo(fullRoot);
        if (File.Exists(fullRoot))
        {
            var file = new FileInfo(fullRoot);
            RejectLink(file, file.Name);
            return [(file.Name, file.FullName)];
        }

        if (!info.Exists)
        {
            throw new DirectoryNotFoundException($"{root}: no such folder or file.");
        }

        RejectLink(info, root);
        var result = new List<(string, string)>();
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        var pending = new Stack<(DirectoryInfo Directory, string Prefix)>();
        pending.Push((info, ""));
        while (pending.Count > 0)
        {
            (DirectoryInfo directory, string prefix) = pending.Pop();
            foreach (FileSystemInfo entry in directory.EnumerateFileSystemInfos("*", options))
            {
                string relative = prefix + entry.Name;
                RejectLink(entry, relative);
                if (entry is DirectoryInfo child)
                {
                    pending.Push((child, relative + "/"));
                }
                else if (!string.Equals(entry.FullName, exclude, StringComparison.Ordinal))
                {
                    result.Add((relative, entry.FullName));
                }
            }
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        foreach ((string relative, _) in result)
        {
            if (SafeRelativePath.Problem(relative) is string problem)
            {
                throw new WaferDataException($"{relative}: cannot be archived portably: {problem}.");
            }
        }

        return result;
    }

    private static void RejectLink(FileSystemInfo entry, string shownAs)
    {
        if (entry.LinkTarget is not null || entry.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            throw new WaferDataException($"{shownAs}: is a symbolic link (to '{entry.LinkTarget}'); Wafer archives regular files only. Copy the target into the folder instead.");
        }
    }
}
