using Wafer.Archive.Manifest;

namespace Wafer.Delta;

/// <summary>
/// One target chunk to encode: where it lies in its target file, and the base bytes it may be coded against.
/// <paramref name="AlignedOffset"/> is the absolute offset in base file <paramref name="BaseFile"/> of the base bytes
/// lying opposite the chunk (-1 when none); <paramref name="RegionOffset"/>/<paramref name="RegionLength"/> the
/// whole base region a <c>zstd-ref</c> chunk uses (length 0 when none); <paramref name="CompanionLength"/> &gt; 0 when the
/// chunk may instead be coded against the target's own BF16 twin (CompanionPairing) at <paramref name="CompanionOffset"/>;
/// <paramref name="RowLength"/>/<paramref name="FirstColumn"/> the tensor's row geometry for standalone coding (0 when unknown);
/// <paramref name="BaseDType"/> the base tensor's dtype when it differs from <paramref name="DType"/> (its elements are
/// converted, <see cref="BaseConversion"/>, and the aligned base bytes are as many elements of that dtype), else
/// <paramref name="DType"/> or <see cref="DType.Opaque"/>.
/// </summary>
internal readonly record struct PatchItem(
    int File,
    long Offset,
    int Length,
    DType DType,
    bool IsTensor,
    List<ChunkEntry> Chunks,
    int BaseFile,
    long AlignedOffset,
    long RegionOffset,
    int RegionLength,
    int RowLength = 0,
    int FirstColumn = 0,
    int CompanionFile = 0,
    long CompanionOffset = 0,
    int CompanionLength = 0,
    DType BaseDType = DType.Opaque)
{
    /// <summary>Bytes of base data opposite the chunk: its length, scaled when the base's elements are of another size.</summary>
    public int BaseLength => BaseDType == DType.Opaque || BaseDType == DType ? Length : Length / DTypes.Size(DType) * DTypes.Size(BaseDType);

    /// <summary>Whether the base bytes opposite the chunk must be converted to the chunk's dtype first.</summary>
    public bool ConvertsBase => BaseDType != DType.Opaque && BaseDType != DType;
}
