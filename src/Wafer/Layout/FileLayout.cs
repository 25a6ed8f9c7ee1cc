namespace Wafer.Layout;

/// <summary>
/// How one source file splits into segments. The segments are in file order, contiguous, and cover
/// <c>[0, Length)</c> exactly, so concatenating them restores the file byte for byte.
/// </summary>
public sealed class FileLayout
{
    /// <summary>Creates a layout and checks that <paramref name="segments"/> tile the file exactly.</summary>
    /// <exception cref="WaferDataException">The segments leave a gap, overlap or run past the end.</exception>
    public FileLayout(string path, string format, long length, IReadOnlyList<LayoutSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(segments);
        long position = 0;
        foreach (LayoutSegment segment in segments)
        {
            if (segment.Offset != position || segment.Length < 0)
            {
                throw new WaferDataException($"{path}: layout segment at offset {segment.Offset} does not follow the previous one (expected offset {position}).");
            }

            position = checked(position + segment.Length);
        }

        if (position != length)
        {
            throw new WaferDataException($"{path}: layout covers {position} bytes but the file has {length}.");
        }

        Path = path;
        Format = format;
        Length = length;
        Segments = segments;
    }

    /// <summary>The file's path as given to the parser (used in messages).</summary>
    public string Path { get; }

    /// <summary>What the parser recognised: <c>safetensors</c>, <c>pytorch</c>, <c>gguf</c> or <c>blob</c>.</summary>
    public string Format { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The segments, in file order, tiling the file.</summary>
    public IReadOnlyList<LayoutSegment> Segments { get; }

    /// <summary>A layout that keeps the whole file as verbatim bytes.</summary>
    public static FileLayout Blob(string path, long length) =>
        new(path, "blob", length, length == 0 ? [] : [new LayoutSegment(0, length, null)]);
}
