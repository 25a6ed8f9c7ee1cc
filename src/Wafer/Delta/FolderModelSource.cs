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
    private readonly List<PositionedFile> _sources = [];
    private readonly List<ModelFile> _files = [];

    private FolderModelSource(string path, List<(string Relative, string FullPath)> entries)
    {
        Path = path;
        try
        {
            foreach ((string relative, string fullPath) in entries)
            {
                PositionedFile source = PositionedFile.Open(fullPath);
                _sources.Add(source);
                FileLayout layout = source.Length == 0 ? FileLayout.Blob(relative, 0) : FileLayoutDetector.Detect(relative, source.Handle, source.Length);
                _files.Add(new ModelFile(relative, source.Length, layout.Format, layout.Segments));
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

    public override void Read(int file, long offset, Span<byte> destination) => _sources[file].Read(offset, destination);

    public override void Dispose()
    {
        foreach (PositionedFile source in _sources)
        {
            source.Dispose();
        }

        _sources.Clear();
    }
}
