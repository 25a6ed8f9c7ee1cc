namespace Wafer.Archive.Manifest;

/// <summary>The archive manifest as stored: UTF-8 JSON, described field by field in docs/FORMAT.md.</summary>
internal sealed class ManifestDocument
{
    /// <summary>Manifest schema version; readers reject versions they do not know.</summary>
    public int Wafer { get; set; }

    /// <summary><c>archive</c>, or <c>patch</c> for a patch against a base.</summary>
    public string Kind { get; set; } = "archive";

    /// <summary>The chunk size the writer used (informational; each chunk declares its own size).</summary>
    public int ChunkSize { get; set; }

    /// <summary>Free-form, writer-supplied facts (tool version, options); never needed to read the archive.</summary>
    public SortedDictionary<string, string>? Info { get; set; }

    public List<FileEntry> Files { get; set; } = [];

    public List<TensorEntry> Tensors { get; set; } = [];

    public List<BlobEntry> Blobs { get; set; } = [];

    /// <summary>Patches only: the base files the patch needs, each checked by SHA-256 before anything is written.</summary>
    public List<BaseFileEntry>? BaseFiles { get; set; }

    /// <summary>Patches only: the base tensors that tensors are coded against.</summary>
    public List<BaseTensorEntry>? BaseTensors { get; set; }

    /// <summary>Patches only: the base byte ranges that blobs are coded against.</summary>
    public List<BaseBlobEntry>? BaseBlobs { get; set; }
}
