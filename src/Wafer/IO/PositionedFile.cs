using Microsoft.Win32.SafeHandles;

namespace Wafer.IO;

/// <summary>
/// A file opened for reading by positioned reads (pread) straight into the caller's buffer, each range checked against
/// the length the file had when opened. Chunk data moves this way, not through memory maps: a mapped view costs a page
/// fault per 4 KiB and a TLB shootdown when unmapped, several times the copy.
/// </summary>
internal sealed class PositionedFile : IDisposable
{
    private PositionedFile(string path, SafeFileHandle handle, long length)
    {
        Path = path;
        Handle = handle;
        Length = length;
    }

    /// <summary>The path the file was opened with, for messages.</summary>
    public string Path { get; }

    /// <summary>The file's length when it was opened.</summary>
    public long Length { get; }

    /// <summary>The read-only handle (for format detection, and for maps made of the same file).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Opens <paramref name="path"/> for reading, sharing it with other readers.</summary>
    public static PositionedFile Open(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return new PositionedFile(path, handle, RandomAccess.GetLength(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Copies <c>[offset, offset + destination.Length)</c> into <paramref name="destination"/>.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(Handle, destination, offset);
            if (read <= 0)
            {
                throw new IOException($"{Path}: the file ends at {offset}, before the {Length} bytes it had when opened.");
            }

            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>Throws when <c>[offset, offset + length)</c> does not lie inside the file as it was when opened.</summary>
    public void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new WaferDataException($"{Path}: range [{offset}, {offset + length}) lies outside the {Length}-byte file.");
        }
    }

    public void Dispose() => Handle.Dispose();
}
