using System.Buffers;
using System.Security.Cryptography;
using Wafer.Archive;
using Wafer.IO;

namespace Wafer;

public sealed partial class WaferArchive
{
    /// <summary>
    /// Decodes every chunk, checks its XXH3 checksum, and recomputes every file's SHA-256. Does not stop at
    /// the first problem: the report names each corrupt tensor and file.
    /// </summary>
    public VerifyReport Verify(UnpackOptions? options = null, IProgress<WaferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ThrowIfPatch();
        options ??= new UnpackOptions();
        List<RestoreItem> items = RestorePlan.Build(_manifest);
        var problems = new List<string>();
        var damagedFiles = new HashSet<int>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int nextFile = 0;
        long total = OriginalBytes;
        long done = 0;

        void FinishFilesBefore(int file)
        {
            for (; nextFile < file; nextFile++)
            {
                string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!damagedFiles.Contains(nextFile) && actual != _manifest.Files[nextFile].Sha256)
                {
                    problems.Add($"file '{_manifest.Files[nextFile].Path}': SHA-256 {actual} differs from the recorded {_manifest.Files[nextFile].Sha256}");
                }
                else if (damagedFiles.Contains(nextFile))
                {
                    problems.Add($"file '{_manifest.Files[nextFile].Path}': cannot be restored intact");
                }
            }
        }

        OrderedPipeline.Run(
            items.Count,
            options.EffectiveThreads,
            index =>
            {
                try
                {
                    return (Buffer: DecodeItem(items[index]), Error: (string?)null);
                }
                catch (WaferDataException e)
                {
                    return (Buffer: (byte[]?)null, Error: e.Message);
                }
            },
            (index, result) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                RestoreItem item = items[index];
                FinishFilesBefore(item.File);
                if (result.Buffer is null)
                {
                    problems.Add(result.Error!);
                    damagedFiles.Add(item.File);
                }
                else
                {
                    hash.AppendData(result.Buffer, 0, item.Chunk.Size);
                    ArrayPool<byte>.Shared.Return(result.Buffer);
                }

                done += item.Chunk.Size;
                progress?.Report(new WaferProgress(done, total, _manifest.Files[item.File].Path));
            },
            result =>
            {
                if (result.Buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(result.Buffer);
                }
            },
            whileWaiting: null,
            cancellationToken);
        FinishFilesBefore(_manifest.Files.Count);
        return new VerifyReport(done, problems);
    }
}
