using Wafer.Archive.Manifest;

namespace Wafer.Archive;

/// <summary>Every chunk of every file in file order then offset order: the order in which files are rebuilt and hashed.</summary>
internal static class RestorePlan
{
    public static List<RestoreItem> Build(ManifestDocument manifest)
    {
        var items = new List<RestoreItem>();
        foreach (TensorEntry tensor in manifest.Tensors)
        {
            Add(items, tensor.File, tensor.Offset, tensor.Chunks, DTypes.TryParse(tensor.Dtype, out DType dtype) ? dtype : DType.Opaque, $"tensor '{tensor.Name}'");
        }

        foreach (BlobEntry blob in manifest.Blobs)
        {
            Add(items, blob.File, blob.Offset, blob.Chunks, DType.Opaque, $"file '{manifest.Files[blob.File].Path}' bytes at {blob.Offset}");
        }

        items.Sort(static (a, b) => a.File != b.File ? a.File.CompareTo(b.File) : a.Offset.CompareTo(b.Offset));
        return items;
    }

    private static void Add(List<RestoreItem> items, int file, long offset, List<ChunkEntry> chunks, DType dtype, string what)
    {
        for (int i = 0; i < chunks.Count; i++)
        {
            items.Add(new RestoreItem(file, offset, chunks[i], dtype, chunks.Count == 1 ? what : $"{what} chunk {i}"));
            offset += chunks[i].Size;
        }
    }
}
