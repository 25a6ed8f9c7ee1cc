using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Wafer.IO;

/// <summary>
/// A read-only memory map of a whole file, handing out bounds-checked spans of at most 2 GiB, and positioned reads
/// of the same file through the handle the map was made from. Zero-length files are represented without a map (the
/// OS refuses to map them).
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private int _disposed;

    private MappedFile(string path, long length, SafeFileHandle handle, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer)
    {
        Path = path;
        _handle = handle;
        Length = length;
        _map = map;
        _view = view;
        _pointer = pointer;
    }

    /// <summary>The path the file was opened with, for messages.</summary>
    public string Path { get; }

    /// <summary>The file's length when it was mapped.</summary>
    public long Length { get; }

    /// <summary>Maps <paramref name="path"/> for reading.</summary>
    public static MappedFile Open(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length == 0)
            {
                return new MappedFile(path, 0, handle, null, null, null);
            }

            // The map is made from the same handle the positioned reads use, so both see the same file.
            using (var stream = new FileStream(handle, FileAccess.Read, 1))
            {
                map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            }

            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedFile(path, length, handle, map, view, pointer + view.PointerOffset);
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies <c>[offset, offset + destination.Length)</c> into <paramref name="destination"/> with positioned reads.
    /// Use this for bulk data (chunk payloads): unlike mapping a view per chunk it takes no page faults and no unmap,
    /// whose TLB flushes cost more than the copy.
    /// </summary>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read <= 0)
            {
                throw new IOException($"{Path}: the file ends at {offset}, before the {Length} bytes it had when opened.");
            }

            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>The bytes <c>[offset, offset + length)</c> of the whole-file map (headers, trailer, manifest); throws when the range leaves the file.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        CheckRange(offset, length);
        return length == 0 ? default : new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    private void CheckRange(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new WaferDataException($"{Path}: range [{offset}, {offset + length}) lies outside the {Length}-byte file.");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
        _handle.Dispose();
    }
}
