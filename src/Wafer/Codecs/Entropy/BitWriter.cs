using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>Packs fields of up to 32 bits LSB-first into a byte span (the raw low-mantissa stream).</summary>
internal ref struct BitWriter
{
    private readonly Span<byte> _destination;
    private ulong _buffer;
    private int _bits;
    private int _pos;

    public BitWriter(Span<byte> destination)
    {
        _destination = destination;
    }

    /// <summary>Bytes written so far, including a final partial byte once <see cref="Flush"/> ran.</summary>
    public readonly int Position => _pos;

    /// <summary>Appends the low <paramref name="count"/> (0..32) bits of <paramref name="value"/>; the caller sized the span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ulong value, int count)
    {
        _buffer |= (value & ((1UL << count) - 1)) << _bits;
        _bits += count;
        if (_bits >= 32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_destination[_pos..], (uint)_buffer);
            _pos += 4;
            _buffer >>= 32;
            _bits -= 32;
        }
    }

    /// <summary>Writes the remaining bits, padding the last byte with zeros.</summary>
    public void Flush()
    {
        while (_bits > 0)
        {
            _destination[_pos++] = (byte)_buffer;
            _buffer >>= 8;
            _bits -= 8;
        }

        _bits = 0;
    }
}
