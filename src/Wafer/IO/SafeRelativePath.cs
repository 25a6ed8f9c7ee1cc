namespace Wafer.IO;

/// <summary>
/// Checks that a path stored in an archive names a file strictly inside the output folder on every OS:
/// forward slashes only, no empty, <c>.</c> or <c>..</c> segments, not rooted, no drive letters, no control
/// or reserved characters.
/// </summary>
internal static class SafeRelativePath
{
    private const int MaxLength = 4096;

    /// <summary>Null when <paramref name="path"/> is safe; otherwise why it is not.</summary>
    public static string? Problem(string path)
    {
        if (path.Length == 0)
        {
            return "the path is empty";
        }

        if (path.Length > MaxLength)
        {
            return $"the path is longer than {MaxLength} characters";
        }

        if (path[0] == '/' || path.Contains('\\', StringComparison.Ordinal))
        {
            return "the path is absolute or uses backslashes";
        }

        if (path.Length >= 2 && path[1] == ':')
        {
            return "the path starts with a drive letter";
        }

        foreach (char c in path)
        {
            if (c < 0x20 || c is ':' or '*' or '?' or '"' or '<' or '>' or '|' or '\u007f')
            {
                return $"the path contains the character U+{(int)c:X4}";
            }
        }

        foreach (string segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return $"the path has a '{segment}' segment that would leave or confuse the output folder";
            }
        }

        return null;
    }

    /// <summary>Combines a safe relative path with <paramref name="root"/> and re-checks containment.</summary>
    public static string Resolve(string root, string relative)
    {
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, relative));
        string prefix = System.IO.Path.EndsInDirectorySeparator(root) ? root : root + System.IO.Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new WaferDataException($"'{relative}' resolves outside the output folder '{root}'.");
        }

        return full;
    }
}
