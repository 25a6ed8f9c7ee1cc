using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Wafer.Delta;

/// <summary>
/// Reads a token stream written by <see cref="ContextTokenEncoder"/>, one value per <see cref="Next"/>, with the
/// context the caller derives from what it has already decoded. Every read is bounds-checked: a hostile stream
/// throws <see cref="WaferDataException"/>, never reads outside its payload. Call <see cref="Dispose"/> in a finally.
/// </summary>
internal ref partial struct ContextTokenDecoder
{
    /// <summary>The symbol of the poison block, which a context without a table points to in the fast decoding loops (no alphabet has it).</summary>
    public const int PoisonSymbol = 255;

    private readonly ReadOnlySpan<byte> _words;
    private readonly ReadOnlySpan<byte> _bits;
    private readonly int _alphabet;
    private readonly int _contexts;
    private readonly int _lanes;

    // Per context and 12-bit slot: ContextTokenCoder.Entry (frequency, offset in the symbol's range, symbol). The
    // block after the last context is the poison block (see PoisonSymbol).
    private uint[]? _table;
    private ulong _presentMask;
    private int _wordPosition;
    private int _bitPosition;
    private ulong _bitBuffer;
    private int _bitCount;

    // The lane states; _lane is the lane of the next symbol.
    private LaneStates _states;
    private int _lane;

    /// <param name="source">The stream: tables, states, words, extra bits.</param>
    /// <param name="contexts">Contexts the stream has tables for.</param>
    /// <param name="alphabet">Symbols per table.</param>
    /// <param name="symbols">Symbols the stream holds; sets its lane count (<see cref="ContextTokenCoder.LanesFor"/>).</param>
    public ContextTokenDecoder(ReadOnlySpan<byte> source, int contexts, int alphabet, int symbols)
    {
        _alphabet = alphabet;
        _contexts = contexts;
        _lanes = ContextTokenCoder.LanesFor(symbols);
        _table = ArrayPool<uint>.Shared.Rent((contexts + 1) << ContextTokenCoder.ScaleBits);
        int position = 0;
        try
        {
            for (int c = 0; c < contexts; c++)
            {
                ReadTable(source, ref position, c);
            }

            if (source.Length - position < 4 * _lanes)
            {
                throw new WaferDataException("token stream ends before its rANS states");
            }

            for (int lane = 0; lane < _lanes; lane++)
            {
                _states[lane] = BinaryPrimitives.ReadUInt32LittleEndian(source[(position + (4 * lane))..]);
            }

            position += 4 * _lanes;
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
        int token = NextToken(context, _lane);
        _lane = (_lane + 1) & (_lanes - 1);
        int extraBits = ValueTokens.ExtraBits(token);
        return ValueTokens.Value(token, extraBits == 0 ? 0 : ReadBits(extraBits));
    }

    /// <summary>Checks that the whole stream was consumed and the states returned to where the encoder began.</summary>
    public readonly void Finish()
    {
        for (int lane = 0; lane < _lanes; lane++)
        {
            if (_states[lane] != ContextTokenCoder.StateLow)
            {
                throw new WaferDataException("token stream does not end where its values do");
            }
        }

        if (_wordPosition != _words.Length)
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
        if (_table is not null)
        {
            ArrayPool<uint>.Shared.Return(_table);
            _table = null;
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

        Span<uint> slots = _table.AsSpan(context << ContextTokenCoder.ScaleBits, ContextTokenCoder.Scale);
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
            if (frequency != 0)
            {
                FillRun(slots.Slice(start, frequency), ContextTokenCoder.Entry(frequency, 0, symbol));
                start += frequency;
            }
        }

        _presentMask |= 1UL << context;
    }

    /// <summary>
    /// One checked decoding step of state <paramref name="lane"/> under <paramref name="context"/>: the context must
    /// have a table and a needed word must be in the stream. Returns the token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextToken(int context, int lane)
    {
        if ((_presentMask & (1UL << context)) == 0)
        {
            throw new WaferDataException($"token stream uses context {context}, which has no table");
        }

        uint x = _states[lane];
        uint entry = _table![(context << ContextTokenCoder.ScaleBits) | (int)(x & (ContextTokenCoder.Scale - 1))];
        x = (((entry & (ContextTokenCoder.Scale - 1)) + 1) * (x >> ContextTokenCoder.ScaleBits)) + ((entry >> ContextTokenCoder.ScaleBits) & (ContextTokenCoder.Scale - 1));
        if (x < ContextTokenCoder.StateLow)
        {
            if (_wordPosition > _words.Length - 2)
            {
                throw new WaferDataException("token stream runs out of rANS words");
            }

            x = (x << 16) | BinaryPrimitives.ReadUInt16LittleEndian(_words[_wordPosition..]);
            _wordPosition += 2;
        }

        _states[lane] = x;
        return (int)(entry >> 24);
    }

    /// <summary>Fills the poison block, which contexts without a table point to in the fast loops: the state stays as it is and the symbol is <see cref="PoisonSymbol"/>.</summary>
    private readonly void FillPoison() =>
        FillRun(_table.AsSpan(_contexts << ContextTokenCoder.ScaleBits, ContextTokenCoder.Scale), ContextTokenCoder.Entry(ContextTokenCoder.Scale, 0, PoisonSymbol));

    /// <summary>Writes <c>first + (k &lt;&lt; ScaleBits)</c> into element k of <paramref name="run"/>: one symbol's slots, offsets 0, 1, 2…</summary>
    private static void FillRun(Span<uint> run, uint first)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated && run.Length >= Vector256<uint>.Count)
        {
            Vector256<uint> entries = Vector256.Create(first) + (Vector256<uint>.Indices << ContextTokenCoder.ScaleBits);
            Vector256<uint> step = Vector256.Create((uint)Vector256<uint>.Count << ContextTokenCoder.ScaleBits);
            for (; k <= run.Length - Vector256<uint>.Count; k += Vector256<uint>.Count)
            {
                entries.CopyTo(run[k..]);
                entries += step;
            }
        }

        for (; k < run.Length; k++)
        {
            run[k] = first + ((uint)k << ContextTokenCoder.ScaleBits);
        }
    }

    /// <summary>Room for the states of the widest stream.</summary>
    [InlineArray(ContextTokenCoder.WideLanes)]
    private struct LaneStates
    {
        private uint _element;
    }
}
