using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Delta;

/// <summary>
/// Reads a token stream written by <see cref="ContextTokenEncoder"/>, one value per <see cref="Next"/>, with the
/// context the caller derives from what it has already decoded. Every read is bounds-checked: a hostile stream
/// throws <see cref="WaferDataException"/>, never reads outside its payload. Call <see cref="Dispose"/> in a finally.
/// </summary>
internal ref partial struct ContextTokenDecoder
{
    private readonly ReadOnlySpan<byte> _words;
    private readonly ReadOnlySpan<byte> _bits;
    private readonly int _alphabet;
    // Per context and 12-bit slot: the symbol (4 KiB per context, so the used ones stay in cache).
    private byte[]? _symbols;

    // Per context and symbol (context << 8 | symbol): frequency | start << 16.
    private uint[]? _symbolInfo;
    private ulong _presentMask;
    private int _wordPosition;
    private int _bitPosition;
    private ulong _bitBuffer;
    private int _bitCount;
    // The four lane states, rotated after every symbol: _x0 always holds the state of the next symbol's lane.
    private uint _x0;
    private uint _x1;
    private uint _x2;
    private uint _x3;

    public ContextTokenDecoder(ReadOnlySpan<byte> source, int contexts, int alphabet)
    {
        _alphabet = alphabet;
        _symbols = ArrayPool<byte>.Shared.Rent(contexts << ContextTokenCoder.ScaleBits);
        _symbolInfo = ArrayPool<uint>.Shared.Rent(contexts << 8);
        int position = 0;
        try
        {
            for (int c = 0; c < contexts; c++)
            {
                ReadTable(source, ref position, c);
            }

            if (source.Length - position < 4 * ContextTokenCoder.Lanes)
            {
                throw new WaferDataException("token stream ends before its rANS states");
            }

            _x0 = BinaryPrimitives.ReadUInt32LittleEndian(source[position..]);
            _x1 = BinaryPrimitives.ReadUInt32LittleEndian(source[(position + 4)..]);
            _x2 = BinaryPrimitives.ReadUInt32LittleEndian(source[(position + 8)..]);
            _x3 = BinaryPrimitives.ReadUInt32LittleEndian(source[(position + 12)..]);
            position += 4 * ContextTokenCoder.Lanes;
            uint wordBytes = ContextTokenCoder.ReadVarint(source, ref position);
            if (wordBytes > source.Length - position || wordBytes % 2 != 0)
            {
                throw new WaferDataException($"token stream declares {wordBytes} bytes of rANS words, {source.Length - position} remain");
            }

            _words = source.Slice(position, (int)wordBytes);
            position += (int)wordBytes;
            uint bitBytes = ContextTokenCoder.ReadVarint(source, ref position);
            if (bitBytes != source.Length - position)
            {
                throw new WaferDataException($"token stream declares {bitBytes} bytes of extra bits, {source.Length - position} remain");
            }

            _bits = source[position..];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Decodes the next value, coded under <paramref name="context"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Next(int context)
    {
        if ((_presentMask & (1UL << context)) == 0)
        {
            throw new WaferDataException($"token stream uses context {context}, which has no table");
        }

        uint x = _x0;
        uint slot = x & (ContextTokenCoder.Scale - 1);
        int token = _symbols![(context << ContextTokenCoder.ScaleBits) | (int)slot];
        uint info = _symbolInfo![(context << 8) | token];
        x = ((info & 0xFFFF) * (x >> ContextTokenCoder.ScaleBits)) + slot - (info >> 16);
        if (x < ContextTokenCoder.StateLow)
        {
            if (_wordPosition >= _words.Length)
            {
                throw new WaferDataException("token stream runs out of rANS words");
            }

            x = (x << 16) | BinaryPrimitives.ReadUInt16LittleEndian(_words[_wordPosition..]);
            _wordPosition += 2;
        }

        _x0 = _x1;
        _x1 = _x2;
        _x2 = _x3;
        _x3 = x;

        int extraBits = ValueTokens.ExtraBits(token);
        return ValueTokens.Value(token, extraBits == 0 ? 0 : ReadBits(extraBits));
    }

    /// <summary>Checks that the whole stream was consumed and the states returned to where the encoder began.</summary>
    public readonly void Finish()
    {
        if (_x0 != ContextTokenCoder.StateLow || _x1 != ContextTokenCoder.StateLow || _x2 != ContextTokenCoder.StateLow || _x3 != ContextTokenCoder.StateLow || _wordPosition != _words.Length)
        {
            throw new WaferDataException("token stream does not end where its values do");
        }

        if (_bitPosition != _bits.Length || _bitCount >= 8)
        {
            throw new WaferDataException("token stream has unread extra bits");
        }
    }

    public void Dispose()
    {
        if (_symbols is not null)
        {
            ArrayPool<byte>.Shared.Return(_symbols);
            _symbols = null;
        }

        if (_symbolInfo is not null)
        {
            ArrayPool<uint>.Shared.Return(_symbolInfo);
            _symbolInfo = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ReadBits(int count)
    {
        if (_bitCount < count)
        {
            Refill(count);
        }

        uint value = (uint)_bitBuffer & ((1u << count) - 1);
        _bitBuffer >>= count;
        _bitCount -= count;
        return value;
    }

    private void Refill(int needed)
    {
        while (_bitCount <= 56 && _bitPosition < _bits.Length)
        {
            _bitBuffer |= (ulong)_bits[_bitPosition++] << _bitCount;
            _bitCount += 8;
        }

        if (_bitCount < needed)
        {
            throw new WaferDataException("token stream runs out of extra bits");
        }
    }

    private void ReadTable(ReadOnlySpan<byte> source, ref int position, int context)
    {
        uint used = ContextTokenCoder.ReadVarint(source, ref position);
        if (used == 0)
        {
            return;
        }

        if (used > _alphabet)
        {
            throw new WaferDataException($"token table {context} lists {used} symbols, the alphabet has {_alphabet}");
        }

        Span<byte> slots = _symbols.AsSpan(context << ContextTokenCoder.ScaleBits, ContextTokenCoder.Scale);
        Span<ushort> frequencies = stackalloc ushort[ContextTokenCoder.MaxAlphabet];
        frequencies.Clear();
        if (used == 1)
        {
            uint only = ContextTokenCoder.ReadVarint(source, ref position);
            if (only >= _alphabet)
            {
                throw new WaferDataException($"token table {context} names symbol {only}, past the alphabet of {_alphabet}");
            }

            frequencies[(int)only] = ContextTokenCoder.Scale;
        }
        else
        {
            int bitmapBytes = ContextTokenCoder.BitmapBytes(_alphabet);
            if (source.Length - position < bitmapBytes + (int)used)
            {
                throw new WaferDataException($"token table {context} is truncated");
            }

            ReadOnlySpan<byte> bitmap = source.Slice(position, bitmapBytes);
            ReadOnlySpan<byte> codes = source.Slice(position + bitmapBytes, (int)used);
            position += bitmapBytes + (int)used;
            Span<int> dequantised = stackalloc int[ContextTokenCoder.MaxAlphabet];
            dequantised.Clear();
            int next = 0;
            for (int s = 0; s < bitmapBytes * 8; s++)
            {
                if ((bitmap[s >> 3] & (1 << (s & 7))) == 0)
                {
                    continue;
                }

                if (s >= _alphabet || next >= codes.Length)
                {
                    throw new WaferDataException($"token table {context}: its bitmap disagrees with its {used} symbols of {_alphabet}");
                }

                dequantised[s] = ContextTokenCoder.Dequantize(codes[next++]);
            }

            if (next != codes.Length)
            {
                throw new WaferDataException($"token table {context}: its bitmap disagrees with its {used} symbols of {_alphabet}");
            }

            ContextTokenCoder.Normalize(dequantised[.._alphabet], frequencies[.._alphabet]);
        }

        int start = 0;
        for (int symbol = 0; symbol < _alphabet; symbol++)
        {
            int frequency = frequencies[symbol];
            if (frequency == 0)
            {
                continue;
            }

            slots.Slice(start, frequency).Fill((byte)symbol);
            _symbolInfo![(context << 8) | symbol] = (uint)frequency | ((uint)start << 16);
            start += frequency;
        }

        _presentMask |= 1UL << context;
    }
}
