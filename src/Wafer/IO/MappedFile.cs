using System.IO.MemoryMappedFiles;

namespace Wafer.IO;

/// <summary>
/// A read-only memory map of a whole file, handing out bounds-checked spans of at most 2 GiB, and positioned reads
/// of the same file (<see cref="PositionedFile"/>) through the handle the map was made from. Zero-length files are represented without a map (the
/// OS refuses to map them).
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly PositionedFile _file;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private int _disposed;

    private MappedFile(PositionedFile file, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer)
    {
        _file = file;
        _map = map;
        _view = view;
        _pointer = pointer;
    }

    /// <summary>The path the file was opened with, for messages.</summary>
    public string Path => _file.Path;

    /// <summary>The file's length when it was mapped.</summary>
    public long Length => _file.Length;

    /// <summary>Maps <paramref name="path"/> for reading.</summary>
    public static MappedFile Open(string path)
    {
        PositionedFile file = PositionedFile.Open(path);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            if (file.Length == 0)
            {
                return new MappedFile(file, null, null, null);
            }

            // The map is made from the same handle the positioned reads use, so both see the same file.
            using (var stream = new FileStream(file.Handle, FileAccess.Read, 1))
            {
                map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            }

            view = map.CreateViewAccessor(0, file.Length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedFile(file, map, view, pointer + view.PointerOffset);
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies <c>[offset, offset + destination.Length)</c> into <paramref name="destination"/> with positioned reads
    /// (<see cref="PositionedFile.Read"/>). Use this for bulk data (chunk payloads): unlike mapping a view per chunk it
    /// takes no page faults and no unmap, whose TLB flushes cost more than the copy.
    /// </summary>
    public void Read(long offset, Span<byte> destination) => _file.Read(offset, destination);

    /// <summary>The bytes <c>[offset, offset + length)</c> of the whole-file map (headers, trailer, manifest); throws when the range leaves the file.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        _file.CheckRange(offset, length);
        return length == 0 ? default : new ReadOnlySpan<byte>(_pointer + offset, length);
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
        _file.Dispose();
    }
}
