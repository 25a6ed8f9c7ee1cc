using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Delta;

/// <summary>
/// Collects (context, value) pairs, then writes them as one token stream (layout in docs/PATCH.md). One
/// instance per thread, reused across chunks; its buffers grow to the largest chunk seen.
/// </summary>
internal sealed class ContextTokenEncoder : IDisposable
{
    private static readonly double[] s_costBits = BuildCostTable();

    private readonly int[] _counts = new int[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly ushort[] _frequencies = new ushort[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly ushort[] _starts = new ushort[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly uint[] _reciprocals = new uint[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly byte[] _shifts = new byte[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly uint[] _biases = new uint[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private byte[] _tokens = [];
    private byte[] _contexts = [];
    private byte[] _bits = [];
    private int _count;
    private int _contextCount;
    private int _alphabet;
    private ulong _bitBuffer;
    private int _bitCount;
    private int _bitBytes;
    private long _extraBits;

    /// <summary>Starts a stream of at most <paramref name="capacity"/> values.</summary>
    public void Reset(int contexts, int alphabet, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(contexts, ContextTokenCoder.MaxContexts);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alphabet, ContextTokenCoder.MaxAlphabet);
        _contextCount = contexts;
        _alphabet = alphabet;
        _count = 0;
        _bitBuffer = 0;
        _bitCount = 0;
        _bitBytes = 0;
        _extraBits = 0;
        Array.Clear(_counts);
        Grow(ref _tokens, capacity);
        Grow(ref _contexts, capacity);
        Grow(ref _bits, (capacity * 4) + 24);
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(int context, uint value)
    {
        int token = ValueTokens.Token(value, out int extraBits);
        _tokens[_count] = (byte)token;
        _contexts[_count] = (byte)context;
        _count++;
        _counts[(context * ContextTokenCoder.MaxAlphabet) + token]++;

        // Branch-free bit writer: append, store 8 bytes, advance by the whole bytes filled.
        _extraBits += extraBits;
        _bitBuffer |= (ulong)(value & (uint)((1UL << extraBits) - 1)) << _bitCount;
        _bitCount += extraBits;
        BinaryPrimitives.WriteUInt64LittleEndian(_bits.AsSpan(_bitBytes, 8), _bitBuffer);
        int bytes = _bitCount >> 3;
        _bitBytes += bytes;
        _bitBuffer >>= bytes * 8;
        _bitCount &= 7;
        return token;
    }

    /// <summary>Estimated stream size in bytes from the histograms (the entropy under the normalised tables, plus tables and extras).</summary>
    public long EstimateBytes()
    {
        double bits = 0;
        long tableBytes = 0;
        Span<ushort> frequencies = stackalloc ushort[ContextTokenCoder.MaxAlphabet];
        for (int c = 0; c < _contextCount; c++)
        {
            ReadOnlySpan<int> counts = _counts.AsSpan(c * ContextTokenCoder.MaxAlphabet, _alphabet);
            ContextTokenCoder.Normalize(counts, frequencies[.._alphabet]);
            int used = 0;
            for (int s = 0; s < _alphabet; s++)
            {
                if (counts[s] != 0)
                {
                    bits += counts[s] * s_costBits[frequencies[s]];
                    used++;
                }
            }

            tableBytes += used switch { 0 => 1, 1 => 2, _ => 1 + ContextTokenCoder.BitmapBytes(_alphabet) + used };
        }

        return (long)Math.Ceiling(bits / 8) + tableBytes + ((_extraBits + 7) / 8) + 16;
    }

    /// <summary>Writes the stream; the number of bytes, or -1 when it does not fit <paramref name="destination"/>.</summary>
    public int Write(Span<byte> destination)
    {
        FlushBits();
        int position = 0;
        int[] counts = _counts;
        ushort[] frequencies = _frequencies;
        ushort[] starts = _starts;
        Span<byte> scratch = stackalloc byte[(ContextTokenCoder.MaxAlphabet * 2) + 32];
        Span<int> dequantised = stackalloc int[ContextTokenCoder.MaxAlphabet];
        for (int c = 0; c < _contextCount; c++)
        {
            int row = c * ContextTokenCoder.MaxAlphabet;
            Span<ushort> rowFrequencies = frequencies.AsSpan(row, _alphabet);
            ContextTokenCoder.Normalize(counts.AsSpan(row, _alphabet), rowFrequencies);
            int used = 0;
            int only = 0;
            for (int s = 0; s < _alphabet; s++)
            {
                if (rowFrequencies[s] != 0)
                {
                    used++;
                    only = s;
                }
            }

            // Table: count of used symbols; then the one symbol, or a presence bitmap and one quantised frequency each.
            int t = ContextTokenCoder.WriteVarint(scratch, 0, (uint)used);
            if (used == 1)
            {
                t = ContextTokenCoder.WriteVarint(scratch, t, (uint)only);
            }
            else if (used > 1)
            {
                int bitmap = t;
                int bitmapBytes = ContextTokenCoder.BitmapBytes(_alphabet);
                scratch.Slice(bitmap, bitmapBytes).Clear();
                t += bitmapBytes;
                for (int s = 0; s < _alphabet; s++)
                {
                    dequantised[s] = 0;
                    if (rowFrequencies[s] != 0)
                    {
                        scratch[bitmap + (s >> 3)] |= (byte)(1 << (s & 7));
                        byte code = ContextTokenCoder.Quantize(rowFrequencies[s]);
                        scratch[t++] = code;
                        dequantised[s] = ContextTokenCoder.Dequantize(code);
                    }
                }

                ContextTokenCoder.Normalize(dequantised[.._alphabet], rowFrequencies);
            }

            int start = 0;
            for (int s = 0; s < _alphabet; s++)
            {
                starts[row + s] = (ushort)start;
                start += rowFrequencies[s];
            }

            if (position + t > destination.Length)
            {
                return -1;
            }

            scratch[..t].CopyTo(destination[position..]);
            position += t;
        }

        ushort[] words = ArrayPool<ushort>.Shared.Rent(_count + 3);
        try
        {
            int wordStart = words.Length;
            words[^1] = 0;
            Span<uint> states = [ContextTokenCoder.StateLow, ContextTokenCoder.StateLow, ContextTokenCoder.StateLow, ContextTokenCoder.StateLow];
            byte[] tokens = _tokens;
            byte[] contexts = _contexts;
            PrepareReciprocals();
            uint[] reciprocals = _reciprocals;
            byte[] shifts = _shifts;
            for (int i = _count - 1; i >= 0; i--)
            {
                int index = (contexts[i] * ContextTokenCoder.MaxAlphabet) + tokens[i];
                uint f = frequencies[index];
                ref uint x = ref states[i & (ContextTokenCoder.Lanes - 1)];
                int emit = (int)(((((ulong)f << 19) - 1) - x) >> 63);
                words[wordStart - 1] = (ushort)x;
                wordStart -= emit;
                x >>= emit * 16;

                // x / f by multiplication with a rounded-up reciprocal (exact for x < 2^31), as in ryg's rans_byte.
                uint q = (uint)(((ulong)x * reciprocals[index]) >> 32) >> shifts[index];
                x += _biases[index] + (q * (uint)(ContextTokenCoder.Scale - f));
            }

            int wordBytes = (words.Length - wordStart) * 2;
            if (position + (4 * ContextTokenCoder.Lanes) + 10 + wordBytes + 5 + _bitBytes > destination.Length)
            {
                return -1;
            }

            foreach (uint state in states)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], state);
                position += 4;
            }

            position = ContextTokenCoder.WriteVarint(destination, position, (uint)wordBytes);
            for (int w = wordStart; w < words.Length; w++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(destination[position..], words[w]);
                position += 2;
            }

            position = ContextTokenCoder.WriteVarint(destination, position, (uint)_bitBytes);
            _bits.AsSpan(0, _bitBytes).CopyTo(destination[position..]);
            return position + _bitBytes;
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(words);
        }
    }

    private void PrepareReciprocals()
    {
        for (int c = 0; c < _contextCount; c++)
        {
            for (int s = 0; s < _alphabet; s++)
            {
                int index = (c * ContextTokenCoder.MaxAlphabet) + s;
                uint f = _frequencies[index];
                if (f == 0)
                {
                    continue;
                }

                if (f == 1)
                {
                    _reciprocals[index] = uint.MaxValue;
                    _shifts[index] = 0;
                    _biases[index] = (uint)(_starts[index] + ContextTokenCoder.Scale - 1);
                    continue;
                }

                int shift = 0;
                while (f > 1u << shift)
                {
                    shift++;
                }

                _reciprocals[index] = (uint)(((1UL << (shift + 31)) + f - 1) / f);
                _shifts[index] = (byte)(shift - 1);
                _biases[index] = _starts[index];
            }
        }
    }

    public void Dispose()
    {
        _tokens = [];
        _contexts = [];
        _bits = [];
    }

    private void FlushBits()
    {
        while (_bitCount > 0)
        {
            _bits[_bitBytes++] = (byte)_bitBuffer;
            _bitBuffer >>= 8;
            _bitCount -= 8;
        }

        _bitCount = 0;
        _bitBuffer = 0;
    }

    private static void Grow(ref byte[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }
    }

    private static double[] BuildCostTable()
    {
        var table = new double[ContextTokenCoder.Scale + 1];
        for (int f = 1; f <= ContextTokenCoder.Scale; f++)
        {
            table[f] = ContextTokenCoder.ScaleBits - Math.Log2(f);
        }

        return table;
    }
}
