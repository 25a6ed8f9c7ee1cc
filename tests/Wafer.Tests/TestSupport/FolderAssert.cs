using System.Security.Cryptography;

namespace Wafer.Tests.TestSupport;

/// <summary>Asserts two folders hold the same relative paths with the same SHA-256.</summary>
public static class FolderAssert
{
    public static void Identical(string expected, string actual)
    {
        Dictionary<string, string> left = Hashes(expected);
        Dictionary<string, string> right = Hashes(actual);
        Assert.Equal(left.Keys.Order(StringComparer.Ordinal), right.Keys.Order(StringComparer.Ordinal));
        foreach ((string path, string hash) in left)
        {
            Assert.True(hash == right[path], $"{path}: SHA-256 differs after the round trip");
        }
    }

    public static Dictionary<string, string> Hashes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(
            p => Path.GetRelativePath(folder, p).Replace('\\', '/'),
            p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p))),
            StringComparer.Ordinal);
}
