using Microsoft.Win32.SafeHandles;
using Wafer.IO;
using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>A model folder (or one file), memory-mapped, split into segments by the format readers.</summary>
internal sealed class FolderModelSource : ModelSource
{
    private readonly List<MappedFile> _maps = [];
    private readonly List<ModelFile> _files = [];
    private readonly string?[] _hashes;

    private FolderModelSource(string path, List<(string Relative, string FullPath)> entries)
    {
        Path = path;
        try
        {
            foreach ((string relative, string fullPath) in entries)
            {
                MappedFile map = MappedFile.Open(fullPath);
                _maps.Add(map);
                FileLayout layout;
                using (SafeFileHandle handle = File.OpenHandle(fullPath))
                {
                    layout = map.Length == 0 ? FileLayout.Blob(relative, 0) : FileLayoutDetector.Detect(relative, handle, map.Length);
                }

                _files.Add(new ModelFile(relative, map.Length, layout.Format, layout.Segments));
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        _hashes = new string?[_files.Count];
    }

    public override string Path { get; }

    public override IReadOnlyList<ModelFile> Files => _files;

    public static FolderModelSource OpenFolder(string path, string? exclude = null) =>
        new(path, SourceTree.Enumerate(path, exclude));

    /// <remarks>Each range is mapped on its own and unmapped after the copy, so resident memory stays bounded by the chunks in flight.</remarks>
    public override ReadOnlySpan<byte> Read(int file, long offset, int length, byte[] scratch)
    {
        using MappedView view = _maps[file].View(offset, length);
        view.Span.CopyTo(scratch);
        return scratch.AsSpan(0, length);
    }

    public override string Sha256(int file)
    {
        lock (_hashes)
        {
            return _hashes[file] ??= HashByReading(file);
        }
    }

    public override void Dispose()
    {
        foreach (MappedFile map in _maps)
        {
            map.Dispose();
        }

        _maps.Clear();
    }
}
