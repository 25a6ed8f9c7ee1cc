namespace Wafer.Layout;

/// <summary>
/// A byte range of a source file: either tensor data (<see cref="Tensor"/> set) that the float codecs see,
/// or other bytes (headers, padding, pickles, whole unknown files) kept verbatim.
/// </summary>
/// <param name="Offset">Start of the range within the file.</param>
/// <param name="Length">Length of the range in bytes.</param>
/// <param name="Tensor">The tensor stored in this range, or null for non-tensor bytes.</param>
public readonly record struct LayoutSegment(long Offset, long Length, TensorDescriptor? Tensor)
{
    /// <summary>End of the range (exclusive).</summary>
    public long End => Offset + Length;
}
