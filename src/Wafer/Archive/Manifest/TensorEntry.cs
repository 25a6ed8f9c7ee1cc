namespace Wafer.Archive.Manifest;

/// <summary>A tensor's bytes inside a source file, stored as chunks coded with its dtype in mind.</summary>
internal sealed class TensorEntry
{
    public string Name { get; set; } = "";

    /// <summary>The dtype exactly as the source file spells it.</summary>
    public string Dtype { get; set; } = "";

    public long[] Shape { get; set; } = [];

    /// <summary>Index into <see cref="ManifestDocument.Files"/>.</summary>
    public int File { get; set; }

    /// <summary>Offset of the tensor's first byte within its source file.</summary>
    public long Offset { get; set; }

    /// <summary>The tensor's length in bytes.</summary>
    public long Size { get; set; }

    public List<ChunkEntry> Chunks { get; set; } = [];

    /// <summary>
    /// Archives only: index into <see cref="ManifestDocument.Tensors"/> of a companion tensor with the same element
    /// count whose bytes (element for element) are the reference of this tensor's reference-coded chunks, e.g. the
    /// BF16 weights an F32 master-weight tensor rounds to.
    /// </summary>
    public int? Companion { get; set; }

    /// <summary>Patches only: index into <see cref="ManifestDocument.BaseTensors"/> of the tensor this one is coded against.</summary>
    public int? Base { get; set; }

    /// <summary>Patches only: unchanged, modified, reshaped, renamed or added.</summary>
    public string? Change { get; set; }
}
