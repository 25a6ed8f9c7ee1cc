using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.Safetensors;

/// <summary>Claims files named <c>*.safetensors</c>; a malformed one fails the operation.</summary>
internal sealed class SafetensorsLayoutReader : IFileLayoutReader
{
    public string Format => "safetensors";

    public bool StrictOnError => true;

    public bool Claims(string path, ReadOnlySpan<byte> prefix, long length) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    public FileLayout Read(string path, SafeFileHandle file, long length) =>
        SafetensorsHeader.Read(path, file, length).ToLayout(path);
}
