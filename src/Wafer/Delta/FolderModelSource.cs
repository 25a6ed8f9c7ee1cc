using Microsoft.Win32.SafeHandles;
using Wafer.IO;
using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>
/// A model folder (or one file), split into segments by the format readers. Ranges are read with positioned reads
/// (pread) straight into the caller's buffer: mapping a view per chunk cost a page fault per 4 KiB and a TLB
/// shootdown per unmap, several times the cost of the copy itself.
/// </summary>
internal sealed class FolderModelSource : ModelSource
{
    private readonly List<SafeFileHandle> _handles = [];
    private readonly List<ModelFile> _files = [];

    private FolderModelSource(string path, List<(string Relative, string FullPath)> entries)
    {
        Path = path;
        try
        {
            foreach ((string relative, string fullPath) in entries)
            {
                SafeFileHandle handle = File.OpenHandle(fullPath);
                _handles.Add(handle);
                long length = RandomAccess.GetLength(handle);
                FileLayout layout = length == 0 ? FileLayout.Blob(relative, 0) : FileLayoutDetector.Detect(relative, handle, length);
                _files.Add(new ModelFile(relative, length, layout.Format, layout.Segments));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override string Path { get; }

    public override IReadOnlyList<ModelFile> Files => _files;

    public static FolderModelSource OpenFolder(string path, string? exclude = null) =>
        new(path, SourceTree.Enumerate(path, exclude));

    public override void Read(int file, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > _files[file].Size - destination.Length)
        {
            throw new WaferDataException($"{Path}: range [{offset}, {offset + destination.Length}) lies outside file '{_files[file].Path}'.");
        }

        for (int done = 0; done < destination.Length;)
        {
            int read = RandomAccess.Read(_handles[file], destination[done..], offset + done);
            if (read == 0)
            {
                throw new IOException($"{Path}: file '{_files[file].Path}' became shorter while it was read.");
            }

            done += read;
        }
    }

    public override void Dispose()
    {
        foreach (SafeFileHandle handle in _handles)
        {
            handle.Dispose();
        }

        _handles.Clear();
    }
}
