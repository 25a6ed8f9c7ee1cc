using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;
using Wafer.IO;

namespace Wafer;

public sealed partial class WaferArchive
{
    /// <summary>
    /// Restores every file into <paramref name="outputFolder"/>, byte-identical to the originals. Chunks are
    /// decoded in parallel and written in order; each file's SHA-256 is checked before it gets its final name,
    /// and the whole output is staged in a temporary folder, so a failure leaves nothing half-written behind.
    /// </summary>
    /// <exception cref="WaferIntegrityException">A chunk or a restored file does not match its checksum.</exception>
    /// <exception cref="IOException">The output folder holds files and <see cref="UnpackOptions.Overwrite"/> is off, or writing failed.</exception>
    public void Unpack(string outputFolder, UnpackOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        ThrowIfPatch();
        options ??= new UnpackOptions();
        string final = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(outputFolder));
        bool exists = Directory.Exists(final);
        if (exists && Directory.EnumerateFileSystemEntries(final).Any() && !options.Overwrite)
        {
            throw new IOException($"{outputFolder}: the folder is not empty (use --force to restore into it).");
        }

        if (System.IO.File.Exists(final))
        {
            throw new IOException($"{outputFolder}: a file exists under that name.");
        }

        using StagedOutput staging = StagedOutput.ForDirectory(final);
        Rebuild(staging.TemporaryPath, options.EffectiveThreads, progress, cancellationToken);
        if (!exists)
        {
            staging.Commit(overwrite: false);
            return;
        }

        // Check every destination before moving anything, so a refusal leaves the folder as it was.
        foreach (FileEntry file in _manifest.Files)
        {
            RejectLinkedFolders(final, SafeRelativePath.Resolve(final, file.Path));
        }

        foreach (FileEntry file in _manifest.Files)
        {
            string target = SafeRelativePath.Resolve(final, file.Path);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            System.IO.File.Move(SafeRelativePath.Resolve(staging.TemporaryPath, file.Path), target, overwrite: true);
        }
    }

    private void ThrowIfPatch()
    {
        if (IsPatch)
        {
            throw new WaferDataException($"{Path}: is a patch, not an archive: rebuild the model with 'wafer apply BASE {Path} -o FOLDER'.");
        }
    }

    /// <summary>A symbolic link already inside the output folder could redirect a restored file outside it.</summary>
    private static void RejectLinkedFolders(string root, string target)
    {
        for (string? folder = System.IO.Path.GetDirectoryName(target); folder is not null && folder.Length > root.Length; folder = System.IO.Path.GetDirectoryName(folder))
        {
            if (Directory.Exists(folder) && new DirectoryInfo(folder).LinkTarget is not null)
            {
                throw new WaferDataException($"{folder}: is a symbolic link inside the output folder; refusing to restore through it.");
            }
        }

        if (System.IO.File.Exists(target) && new FileInfo(target).LinkTarget is not null)
        {
            throw new WaferDataException($"{target}: is a symbolic link; refusing to replace it.");
        }
    }

    private void Rebuild(string root, int threads, IProgress<WaferProgress>? progress, CancellationToken cancellationToken)
    {
        List<RestoreItem> items = RestorePlan.Build(_manifest);
        VerifiedFileWriter.Restore(Path, _manifest.Files, root, items.Count, i => DecodeItem(items[i]), i => (items[i].File, items[i].Offset, items[i].Chunk.Size), threads, progress, cancellationToken);
    }

    private byte[] DecodeItem(RestoreItem item)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(item.Chunk.Size);
        try
        {
            DecodeChunk(item.Chunk, item.DType, buffer.AsSpan(0, item.Chunk.Size), item.What);
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
