using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Packs fields of up to 56 bits LSB-first. A local of this type keeps its state in registers; every flush
/// stores 8 bytes, so the caller leaves 8 bytes of room past the last byte it will use.
/// </summary>
internal unsafe struct RawBitWriter
{
    private ulong _buffer;
    private int _bits;
    private byte* _p;

    public RawBitWriter(byte* destination)
    {
        _p = destination;
    }

    /// <summary>The next byte that a <see cref="Flush"/> would leave the writer at.</summary>
    public readonly byte* End => _p + ((_bits + 7) >> 3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ulong value, int count)
    {
        _buffer |= value << _bits;
        _bits += count;
        ulong b = _buffer;
        *(ulong*)_p = BitConverter.IsLittleEndian ? b : BinaryPrimitives.ReverseEndianness(b);
        int whole = _bits & ~7;
        _p += whole >> 3;
        _buffer = b >> whole;
        _bits &= 7;
    }
}
