using System.Text;

namespace Wafer.Tests.Formats.Gguf;

/// <summary>
/// Writes GGUF bytes field by field as docs/gguf.md specifies (all little-endian): magic, version, counts,
/// key/values (string = u64 length + UTF-8), tensor infos, padding to the alignment, then data.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<byte> _bytes = [];

    public long Position => _bytes.Count;

    public GgufWriter Header(uint version, ulong tensors, ulong keyValues)
    {
        _bytes.AddRange("GGUF"u8.ToArray());
        return U32(version).U64(tensors).U64(keyValues);
    }

    public GgufWriter Text(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        U64((ulong)utf8.Length);
        _bytes.AddRange(utf8);
        return this;
    }

    public GgufWriter Key(string key, uint valueType) => Text(key).U32(valueType);

    public GgufWriter U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public GgufWriter U32(uint value)
    {
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public GgufWriter I32(int value)
    {
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public GgufWriter U64(ulong value)
    {
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public GgufWriter F32(float value)
    {
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public GgufWriter F64(double value)
    {
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    /// <summary>A tensor info: name, n_dims, dims (ne[0] first), ggml type, offset within the data section.</summary>
    public GgufWriter TensorInfo(string name, ulong[] dims, uint type, ulong offset)
    {
        Text(name).U32((uint)dims.Length);
        foreach (ulong dim in dims)
        {
            U64(dim);
        }

        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to the next multiple of <paramref name="alignment"/>.</summary>
    public GgufWriter Pad(int alignment)
    {
        while (_bytes.Count % alignment != 0)
        {
            _bytes.Add(0);
        }

        return this;
    }

    public GgufWriter Bytes(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray()
    {
        return [.. _bytes];
    }
}
