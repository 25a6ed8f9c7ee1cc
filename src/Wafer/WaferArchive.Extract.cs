using Wafer.Formats.Safetensors;
using Wafer.IO;
using Wafer.Layout;

namespace Wafer;

public sealed partial class WaferArchive
{
    /// <summary>
    /// Writes <paramref name="tensors"/> into a new safetensors file at <paramref name="path"/> (staged under a
    /// temporary name), in the given order, with the first safetensors file's <c>__metadata__</c> left out.
    /// </summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or one has a dtype safetensors cannot express.</exception>
    public void WriteSafetensors(IReadOnlyList<ArchiveTensor> tensors, string path, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (ArchiveTensor tensor in tensors)
        {
            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' is selected twice (it exists in several files); pick one file's tensors.", nameof(tensors));
            }

            if (!DTypes.IsKnownName(tensor.DTypeName))
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' has dtype '{tensor.DTypeName}', which safetensors cannot hold; extract it as raw bytes.", nameof(tensors));
            }
        }

        if (System.IO.File.Exists(path) && !overwrite)
        {
            throw new IOException($"{path}: already exists (use --force to replace it).");
        }

        byte[] header = SafetensorsHeader.Build(
            [.. tensors.Select(t => new TensorDescriptor(t.Name, t.DTypeName, t.DType, [.. t.Shape]))],
            [.. tensors.Select(t => t.Size)],
            metadata: null);
        using StagedOutput output = StagedOutput.ForFile(path);
        using (var stream = new FileStream(output.TemporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            stream.Write(header);
            foreach (ArchiveTensor tensor in tensors)
            {
                CopyTensorTo(tensor, stream);
            }
        }

        output.Commit(overwrite);
    }

    /// <summary>Writes the raw bytes of <paramref name="tensor"/> to <paramref name="path"/>, staged under a temporary name.</summary>
    public void WriteRaw(ArchiveTensor tensor, string path, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (System.IO.File.Exists(path) && !overwrite)
        {
            throw new IOException($"{path}: already exists (use --force to replace it).");
        }

        using StagedOutput output = StagedOutput.ForFile(path);
        using (var stream = new FileStream(output.TemporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            CopyTensorTo(tensor, stream);
        }

        output.Commit(overwrite);
    }
}
