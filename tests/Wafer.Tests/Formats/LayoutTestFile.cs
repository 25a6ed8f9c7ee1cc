using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Tests.Formats;

/// <summary>Writes bytes to a temporary file so readers can be run on them through a file handle.</summary>
public static class LayoutTestFile
{
    internal static FileLayout Read(IFileLayoutReader reader, byte[] bytes, string name = "test.bin") =>
        WithFile(bytes, name, (path, handle) => reader.Read(path, handle, bytes.Length));

    internal static FileLayout Detect(byte[] bytes, string name) =>
        WithFile(bytes, name, (path, handle) => FileLayoutDetector.Detect(path, handle, bytes.Length));

    internal static FileLayout ReadFile(IFileLayoutReader reader, string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        return reader.Read(path, handle, RandomAccess.GetLength(handle));
    }

    internal static FileLayout DetectFile(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        return FileLayoutDetector.Detect(path, handle, RandomAccess.GetLength(handle));
    }

    /// <summary>Asserts that the layout's segments are contiguous, cover the file and reassemble it byte for byte.</summary>
    internal static void AssertTiles(FileLayout layout, byte[] file)
    {
        long position = 0;
        using var rebuilt = new MemoryStream();
        foreach (LayoutSegment segment in layout.Segments)
        {
            Assert.Equal(position, segment.Offset);
            rebuilt.Write(file, (int)segment.Offset, (int)segment.Length);
            position += segment.Length;
        }

        Assert.Equal(file.Length, position);
        Assert.Equal(file, rebuilt.ToArray());
    }

    /// <summary>
    /// Runs <paramref name="reader"/> over each variant through one scratch file and asserts the outcome is either a
    /// layout that tiles the variant or a <see cref="WaferDataException"/>, never another exception type.
    /// </summary>
    internal static void AssertEachVariantParsesOrFailsCleanly(IFileLayoutReader reader, IEnumerable<byte[]> variants, string name = "test.bin")
    {
        string directory = Path.Combine(Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name);
        try
        {
            // One handle rewritten in place: creating a file per variant would dominate the run time.
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
            foreach (byte[] variant in variants)
            {
                RandomAccess.SetLength(handle, variant.Length);
                RandomAccess.Write(handle, variant, 0);
                FileLayout? layout = null;
                Exception? error = Record.Exception(() => layout = reader.Read(path, handle, variant.Length));
                if (error is null)
                {
                    AssertTiles(layout!, variant);
                }
                else if (error is not WaferDataException)
                {
                    Assert.Fail($"variant of {variant.Length} bytes threw {error.GetType().Name}: {error}");
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Every prefix of <paramref name="file"/> shorter than the whole, stepping by <paramref name="step"/>.</summary>
    internal static IEnumerable<byte[]> Truncations(byte[] file, int step = 1)
    {
        for (int cut = 0; cut < file.Length; cut += step)
        {
            yield return file[..cut];
        }
    }

    /// <summary><paramref name="file"/> with one byte changed, for every byte position and each of <paramref name="masks"/>.</summary>
    internal static IEnumerable<byte[]> ByteFlips(byte[] file, params byte[] masks)
    {
        for (int i = 0; i < file.Length; i++)
        {
            foreach (byte mask in masks)
            {
                byte[] copy = (byte[])file.Clone();
                copy[i] ^= mask;
                yield return copy;
            }
        }
    }

    private static T WithFile<T>(byte[] bytes, string name, Func<string, SafeFileHandle, T> action)
    {
        string directory = Path.Combine(Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name);
        try
        {
            File.WriteAllBytes(path, bytes);
            using SafeFileHandle handle = File.OpenHandle(path);
            return action(path, handle);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
