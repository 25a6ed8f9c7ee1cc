using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Wafer.Formats.Gguf;

/// <summary>
/// Sequential little-endian reads over a GGUF file through a small window buffer, so that a header with
/// megabytes of vocabulary metadata is read in chunks, never whole. Every read and skip is checked against the
/// file length first.
/// </summary>
internal sealed class GgufCursor(string path, SafeFileHandle file, long length)
{
    private const int WindowLength = 64 << 10;

    private readonly byte[] _window = new byte[WindowLength];
    private long _windowOffset;
    private int _windowLength;

    /// <summary>Offset of the next byte to read.</summary>
    public long Position { get; private set; }

    /// <summary>Bytes between <see cref="Position"/> and the end of the file.</summary>
    public long Remaining => length - Position;

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "a 32-bit value"));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "a 64-bit value"));

    /// <summary>Reads a GGUF string (u64 length, then UTF-8 bytes) of at most <paramref name="maxLength"/> bytes.</summary>
    public string ReadString(int maxLength, string what)
    {
        ulong declared = ReadUInt64();
        if (declared > (ulong)maxLength)
        {
            throw Bad($"{what} declares {declared} bytes, more than the {maxLength}-byte limit");
        }

        return Encoding.UTF8.GetString(Take((int)declared, what));
    }

    /// <summary>Skips a GGUF string without reading its bytes into memory.</summary>
    public void SkipString(string what) => Skip(ReadUInt64(), what);

    /// <summary>Moves past <paramref name="count"/> bytes, which must lie inside the file.</summary>
    public void Skip(ulong count, string what)
    {
        if (count > (ulong)Remaining)
        {
            throw Bad($"{what} declares {count} bytes but only {Remaining} remain");
        }

        Position += (long)count;
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
        {
            throw Bad($"{what} of {count} bytes runs past the end of the {length}-byte file");
        }

        if (count > WindowLength)
        {
            // Longer than the window: only short strings are ever read, so this is a one-off allocation capped by the caller.
            byte[] bytes = new byte[count];
            Fill(bytes, Position);
            Position += count;
            return bytes;
        }

        if (Position < _windowOffset || Position + count > _windowOffset + _windowLength)
        {
            _windowOffset = Position;
            _windowLength = (int)Math.Min(WindowLength, Remaining);
            Fill(_window.AsSpan(0, _windowLength), _windowOffset);
        }

        ReadOnlySpan<byte> result = _window.AsSpan((int)(Position - _windowOffset), count);
        Position += count;
        return result;
    }

    private void Fill(Span<byte> destination, long offset)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(file, destination[total..], offset + total);
            if (read == 0)
            {
                throw Bad($"file ends at {offset + total}, before its declared length");
            }

            total += read;
        }
    }

    /// <summary>A bad-data error naming the file and the current offset.</summary>
    public WaferDataException Bad(string problem) => new($"{path}: invalid GGUF: {problem} (at offset {Position}).");
}
