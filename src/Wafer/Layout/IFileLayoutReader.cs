using Microsoft.Win32.SafeHandles;

namespace Wafer.Layout;

/// <summary>
/// Recognises one file format and splits a file of that format into tensor and non-tensor segments.
/// Readers only read headers and metadata through <see cref="RandomAccess"/>; they never execute anything
/// found in the file and cap every declared length before allocating.
/// </summary>
internal interface IFileLayoutReader
{
    /// <summary>The format name written to the manifest (e.g. <c>safetensors</c>).</summary>
    string Format { get; }

    /// <summary>Cheap test on the file name and its first bytes (up to 64) whether this reader should try the file.</summary>
    bool Claims(string path, ReadOnlySpan<byte> prefix, long length);

    /// <summary>
    /// Parses the file. Throws <see cref="WaferDataException"/> when the file claims the format but is malformed;
    /// the caller decides whether that is fatal (safetensors) or means "store opaque" (the others).
    /// </summary>
    FileLayout Read(string path, SafeFileHandle file, long length);

    /// <summary>
    /// True when a malformed file of this format must fail the whole operation rather than be stored as
    /// opaque bytes.
    /// </summary>
    bool StrictOnError { get; }
}
