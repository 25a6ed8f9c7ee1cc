using Wafer.Layout;

namespace Wafer.Formats;

/// <summary>Turns a format's tensor byte ranges into a layout that tiles the file, with the bytes between them kept verbatim.</summary>
internal static class TensorSegmentTiler
{
    /// <summary>
    /// Sorts <paramref name="tensors"/> by offset, checks that they lie inside the file and do not overlap, and
    /// fills every gap (headers, pickles, padding, directories) with a non-tensor segment.
    /// Zero-length tensors carry no bytes and are left out.
    /// </summary>
    public static FileLayout Tile(string path, string format, long length, IEnumerable<LayoutSegment> tensors)
    {
        var sorted = tensors.Where(static t => t.Length > 0).OrderBy(static t => t.Offset).ToList();
        var segments = new List<LayoutSegment>((2 * sorted.Count) + 1);
        long position = 0;
        foreach (LayoutSegment tensor in sorted)
        {
            if (tensor.Offset < position || tensor.Length > length - tensor.Offset)
            {
                throw new WaferDataException($"{path}: invalid {format}: tensor '{tensor.Tensor?.Name}' at [{tensor.Offset}, +{tensor.Length}) overlaps the bytes before it (which end at {position}) or runs past the end of the {length}-byte file.");
            }

            if (tensor.Offset > position)
            {
                segments.Add(new LayoutSegment(position, tensor.Offset - position, null));
            }

            segments.Add(tensor);
            position = tensor.End;
        }

        if (position < length)
        {
            segments.Add(new LayoutSegment(position, length - position, null));
        }

        return new FileLayout(path, format, length, segments);
    }
}
