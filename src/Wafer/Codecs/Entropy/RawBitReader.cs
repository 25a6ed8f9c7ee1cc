using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Reads LSB-first fields of up to 56 bits from [start, end). Never reads outside that range: near the end it
/// goes byte by byte and supplies zero bits past it; the caller checks the total it consumed.
/// </summary>
internal unsafe struct RawBitReader
{
    private ulong _buffer;
    private int _bits;
    private byte* _p;
    private readonly byte* _end;

    public RawBitReader(byte* start, byte* end)
    {
        _p = start;
        _end = end;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(int count)
    {
        if (_bits < count)
        {
            Refill();
        }

        ulong value = _buffer & ((1UL << count) - 1);
        _buffer >>= count;
        _bits -= count;
        return value;
    }

    /// <summary>True when <paramref name="bytes"/> more bytes can be loaded without passing the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool CanReadFast(int bytes) => _end - _p >= bytes;

    /// <summary>Reads <paramref name="count"/> (0..56) bits with a branch-free refill; needs 8 loadable bytes (<see cref="CanReadFast"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadFast(int count)
    {
        ulong w = *(ulong*)_p;
        _buffer |= (BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w)) << _bits;
        int bytes = (63 - _bits) >> 3;
        _p += bytes;
        _bits += bytes << 3;
        ulong value = _buffer & ((1UL << count) - 1);
        _buffer >>= count;
        _bits -= count;
        return value;
    }

    /// <summary>Buffered bits, for a hot loop to keep in registers; <see cref="Attach"/> puts the state back.</summary>
    public readonly ulong Buffer => _buffer;

    /// <summary>Number of buffered bits.</summary>
    public readonly int Bits => _bits;

    /// <summary>Next byte to load.</summary>
    public readonly byte* Position => _p;

    /// <summary>Restores the state a hot loop advanced.</summary>
    public void Attach(ulong buffer, int bits, byte* position)
    {
        _buffer = buffer;
        _bits = bits;
        _p = position;
    }

    /// <summary>Bits handed out so far, counting from <paramref name="start"/>.</summary>
    public readonly long Consumed(byte* start) => ((_p - start) * 8L) - _bits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Refill()
    {
        if (_p + 8 <= _end)
        {
            ulong w = *(ulong*)_p;
            _buffer |= (BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w)) << _bits;
            int bytes = (63 - _bits) >> 3;
            _p += bytes;
            _bits += bytes << 3;
            return;
        }

        RefillSlow();
    }

    private void RefillSlow()
    {
        while (_bits <= 56)
        {
            ulong b = _p < _end ? *_p : 0UL;
            _p++;
            _buffer |= b << _bits;
            _bits += 8;
        }
    }
}
