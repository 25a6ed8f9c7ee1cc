using Microsoft.Win32.SafeHandles;
using Wafer.Layout;

namespace Wafer.Formats.Gguf;

/// <summary>
/// Claims files starting with the <c>GGUF</c> magic. Header, metadata, tensor infos and alignment padding stay
/// verbatim; each tensor's data becomes a tensor segment (quantised types as <see cref="DType.Opaque"/>).
/// A malformed file is kept as an opaque blob by the caller.
/// </summary>
internal sealed class GgufLayoutReader : IFileLayoutReader
{
    public string Format => "gguf";

    public bool StrictOnError => false;

    public bool Claims(string path, ReadOnlySpan<byte> prefix, long length) => prefix.StartsWith("GGUF"u8);

    public FileLayout Read(string path, SafeFileHandle file, long length) =>
        TensorSegmentTiler.Tile(path, Format, length, GgufHeader.Read(path, file, length));
}
