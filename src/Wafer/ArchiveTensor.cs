namespace Wafer;

/// <summary>A tensor stored in an archive; read it with <see cref="WaferArchive.ReadTensor"/>.</summary>
public sealed class ArchiveTensor
{
    internal ArchiveTensor(int index, string name, string dtypeName, DType dtype, long[] shape, ArchiveFile file, long offset, long size, long storedSize)
    {
        Index = index;
        Name = name;
        DTypeName = dtypeName;
        DType = dtype;
        Shape = shape;
        File = file;
        Offset = offset;
        Size = size;
        StoredSize = storedSize;
    }

    /// <summary>The tensor's name in its source file.</summary>
    public string Name { get; }

    /// <summary>The dtype as the source file spells it.</summary>
    public string DTypeName { get; }

    /// <summary>The dtype Wafer coded it as (<see cref="DType.Opaque"/> for unknown types).</summary>
    public DType DType { get; }

    /// <summary>Dimensions; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The source file the tensor lives in.</summary>
    public ArchiveFile File { get; }

    /// <summary>Offset of the tensor's bytes in its source file.</summary>
    public long Offset { get; }

    /// <summary>Decoded size in bytes.</summary>
    public long Size { get; }

    /// <summary>Bytes its chunks occupy in the archive (shared chunks counted for each tensor).</summary>
    public long StoredSize { get; }

    internal int Index { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DTypeName}[{string.Join(", ", Shape)}]";
}
