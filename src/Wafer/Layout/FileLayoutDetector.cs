using Microsoft.Win32.SafeHandles;
using Wafer.Formats.Safetensors;

namespace Wafer.Layout;

/// <summary>Picks the layout reader for a file by name and magic bytes, falling back to a verbatim blob.</summary>
internal static class FileLayoutDetector
{
    private static readonly IFileLayoutReader[] s_readers =
    [
        new SafetensorsLayoutReader(),
        new Formats.PyTorch.PyTorchLayoutReader(),
        new Formats.Gguf.GgufLayoutReader(),
    ];

    /// <summary>Splits <paramref name="file"/> into segments with the first reader that claims it.</summary>
    public static FileLayout Detect(string path, SafeFileHandle file, long length)
    {
        Span<byte> prefix = stackalloc byte[64];
        int read = RandomAccess.Read(file, prefix, 0);
        prefix = prefix[..read];
        foreach (IFileLayoutReader reader in s_readers)
        {
            if (!reader.Claims(path, prefix, length))
            {
                continue;
            }

            if (reader.StrictOnError)
            {
                return reader.Read(path, file, length);
            }

            try
            {
                return reader.Read(path, file, length);
            }
            catch (WaferDataException)
            {
                // Formats we only optionally understand are kept verbatim when they do not parse.
                return FileLayout.Blob(path, length);
            }
        }

        return FileLayout.Blob(path, length);
    }
}
