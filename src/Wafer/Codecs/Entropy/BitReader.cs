using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Reads LSB-first fields of up to 32 bits. The caller has checked that the span holds every bit it will ask for;
/// past the end the reader supplies zero bits rather than reading outside the span.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _source;
    private ulong _buffer;
    private int _bits;
    private int _pos;

    public BitReader(ReadOnlySpan<byte> source)
    {
        _source = source;
    }

    /// <summary>Reads <paramref name="count"/> (0..32) bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read(int count)
    {
        if (_bits < count)
        {
            Refill();
        }

        uint value = (uint)(_buffer & ((1UL << count) - 1));
        _buffer >>= count;
        _bits -= count;
        return value;
    }

    private void Refill()
    {
        if (_pos <= _source.Length - 4)
        {
            _buffer |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(_source[_pos..]) << _bits;
            _pos += 4;
            _bits += 32;
            return;
        }

        while (_bits <= 56)
        {
            ulong b = _pos < _source.Length ? _source[_pos] : 0UL;
            _pos++;
            _buffer |= b << _bits;
            _bits += 8;
        }
    }
}
