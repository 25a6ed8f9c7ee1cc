using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// Claims PyTorch checkpoints: zip files (<c>torch.save</c> since 1.6) and legacy pickle checkpoints named
/// <c>*.bin</c>, <c>*.pt</c>, <c>*.pth</c> or <c>*.ckpt</c>. A file that does not parse, or whose pickle names a
/// global outside the torch allow-list, is kept as an opaque blob by the caller.
/// </summary>
internal sealed class PyTorchLayoutReader : IFileLayoutReader
{
    public string Format => "pytorch";

    public bool StrictOnError => false;

    public bool Claims(string path, ReadOnlySpan<byte> prefix, long length) =>
        prefix.StartsWith("PK\x03\x04"u8)
        || (prefix.Length > 0 && prefix[0] == 0x80 && HasCheckpointExtension(path));

    public FileLayout Read(string path, SafeFileHandle file, long length)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = RandomAccess.Read(file, magic, 0);
        return read == 4 && magic.SequenceEqual("PK\x03\x04"u8)
            ? TorchZipCheckpoint.Read(path, file, length, Format)
            : TorchLegacyCheckpoint.Read(path, file, length, Format);
    }

    private static bool HasCheckpointExtension(string path) =>
        Path.GetExtension(path).ToUpperInvariant() is ".BIN" or ".PT" or ".PTH" or ".CKPT";
}
