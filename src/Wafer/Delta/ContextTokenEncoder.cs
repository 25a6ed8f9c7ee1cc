using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Wafer.Codecs.Entropy;

namespace Wafer.Delta;

/// <summary>
/// Collects (context, value) pairs, then writes them as one token stream (layout in docs/PATCH.md). One
/// instance per thread, reused across chunks; its buffers grow to the largest chunk seen.
/// </summary>
internal sealed partial class ContextTokenEncoder : IDisposable
{
    private static readonly double[] s_costBits = BuildCostTable();

    private readonly int[] _counts = new int[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly int[] _merged = new int[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly ushort[] _frequencies = new ushort[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly ushort[] _starts = new ushort[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];
    private readonly EncodeEntry[] _entries = new EncodeEntry[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];

    // The same constants for the AVX2 encoder of long streams, as PrefixRansEncoder.Entry lays them out: frequency,
    // start and log2 packed in the low half, the reciprocal of the frequency in the high half.
    private readonly ulong[] _vectorEntries = new ulong[ContextTokenCoder.MaxContexts * ContextTokenCoder.MaxAlphabet];

    // Per value: context × MaxAlphabet + token, the row of _counts and _entries it is coded with.
    private ushort[] _symbols = [];

    // Scratch of the vectorised collections: packed 16-bit residuals (OrderedResiduals16.Pack), or the extra bits of
    // 32-bit residuals with their counts beside them (OrderedResiduals32).
    private uint[] _residuals = [];
    private byte[] _extraCounts = [];
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
        Grow(ref _symbols, capacity);
        Grow(ref _bits, (capacity * 4) + 24);
    }

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(int context, uint value)
    {
        int token = ValueTokens.Token(value, out int extraBits);
        int symbol = (context * ContextTokenCoder.MaxAlphabet) + token;
        _symbols[_count++] = (ushort)symbol;
        _counts[symbol]++;

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
    public long EstimateBytes() => EstimateBytes(~0);

    /// <summary>
    /// Estimated stream size had every value been coded under context <c>c &amp; <paramref name="contextMask"/></c>
    /// instead of <c>c</c>: the histograms of the contexts that merge are added. A coarser context layout whose
    /// contexts nest in the collected one (e.g. dropping the low two context bits) is estimated without collecting again.
    /// </summary>
    public long EstimateBytes(int contextMask)
    {
        ReadOnlySpan<int> histograms = _counts;
        if (contextMask != ~0)
        {
            // Add each row into the row of its merged context, in one pass over the used rows.
            Span<int> merged = _merged;
            merged[..(_contextCount * ContextTokenCoder.MaxAlphabet)].Clear();
            for (int c = 0; c < _contextCount; c++)
            {
                ReadOnlySpan<int> row = _counts.AsSpan(c * ContextTokenCoder.MaxAlphabet, _alphabet);
                Span<int> into = merged.Slice((c & contextMask) * ContextTokenCoder.MaxAlphabet, _alphabet);
                for (int s = 0; s < row.Length; s++)
                {
                    into[s] += row[s];
                }
            }

            histograms = merged;
        }

        double bits = 0;
        long tableBytes = 0;
        Span<ushort> frequencies = stackalloc ushort[ContextTokenCoder.MaxAlphabet];
        for (int c = 0; c < _contextCount; c++)
        {
            ReadOnlySpan<int> counts = histograms.Slice(c * ContextTokenCoder.MaxAlphabet, _alphabet);
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

        return (long)Math.Ceiling(bits / 8) + tableBytes + ((_extraBits + 7) / 8) + (4 * ContextTokenCoder.LanesFor(_count));
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

        int lanes = ContextTokenCoder.LanesFor(_count);
        // At most one word per symbol, and room below the last for the vector encoder's 80-byte rounds.
        ushort[] words = ArrayPool<ushort>.Shared.Rent(_count + 64);
        try
        {
            PrepareEntries();
            Span<uint> states = stackalloc uint[ContextTokenCoder.WideLanes];
            int wordStart = lanes == ContextTokenCoder.WideLanes ? EncodeWide(words, states) : EncodeNarrow(words, states);
            int wordBytes = (words.Length - wordStart) * 2;
            if (position + (4 * lanes) + 10 + wordBytes + 5 + _bitBytes > destination.Length)
            {
                return -1;
            }

            for (int lane = 0; lane < lanes; lane++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination[(position + (4 * lane))..], states[lane]);
            }

            position += 4 * lanes;
            position = ContextTokenCoder.WriteVarint(destination, position, (uint)wordBytes);
            Span<ushort> used = words.AsSpan(wordStart);
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(used).CopyTo(destination[position..]);
                position += wordBytes;
            }
            else
            {
                foreach (ushort word in used)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[position..], word);
                    position += 2;
                }
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

    /// <summary>
    /// Runs the rANS encoder backwards over the values, symbol <c>i</c> on state <c>i mod 4</c>; the words are
    /// written downwards from the end of <paramref name="words"/> and the index of the first one is returned.
    /// The four states live in locals, four values per iteration, each step branch-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int EncodeNarrow(ushort[] words, Span<uint> states)
    {
        ref EncodeEntry entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref ushort symbols = ref MemoryMarshal.GetArrayDataReference(_symbols);
        ref ushort output = ref MemoryMarshal.GetArrayDataReference(words);
        nint top = words.Length;
        uint x0 = ContextTokenCoder.StateLow, x1 = x0, x2 = x0, x3 = x0;
        int i = _count - 1;

        // The last count mod 4 values first, on the lanes they belong to, so the loop below always starts at lane 3.
        for (; i >= 0 && (i & 3) != 3; i--)
        {
            ref EncodeEntry e = ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i));
            switch (i & 3)
            {
                case 0:
                    x0 = Step(x0, ref e, ref output, ref top);
                    break;
                case 1:
                    x1 = Step(x1, ref e, ref output, ref top);
                    break;
                default:
                    x2 = Step(x2, ref e, ref output, ref top);
                    break;
            }
        }

        for (; i >= 3; i -= 4)
        {
            x3 = Step(x3, ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i)), ref output, ref top);
            x2 = Step(x2, ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i - 1)), ref output, ref top);
            x1 = Step(x1, ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i - 2)), ref output, ref top);
            x0 = Step(x0, ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i - 3)), ref output, ref top);
        }

        (states[0], states[1], states[2], states[3]) = (x0, x1, x2, x3);
        return (int)top;
    }

    /// <summary>
    /// <see cref="EncodeNarrow"/> with 32 states, symbol <c>i</c> on state <c>i mod 32</c>, kept in
    /// <paramref name="states"/>: with 32 independent chains, storing and reloading a state never stalls the loop.
    /// With AVX2 the last partial round goes first, one symbol at a time, then the whole rounds eight states at a
    /// time (<see cref="PrefixRansEncoder.EncodeSymbolRounds31Avx2"/>); both give the same words.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int EncodeWide(ushort[] words, Span<uint> states)
    {
        ref EncodeEntry entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        ref ushort symbols = ref MemoryMarshal.GetArrayDataReference(_symbols);
        ref ushort output = ref MemoryMarshal.GetArrayDataReference(words);
        ref uint x = ref MemoryMarshal.GetReference(states);
        nint top = words.Length;
        states[..ContextTokenCoder.WideLanes].Fill(ContextTokenCoder.StateLow);
        int rounds = Avx2.IsSupported && BitConverter.IsLittleEndian ? _count / ContextTokenCoder.WideLanes : 0;
        for (int i = _count - 1; i >= rounds * ContextTokenCoder.WideLanes; i--)
        {
            ref uint lane = ref Unsafe.Add(ref x, i & (ContextTokenCoder.WideLanes - 1));
            lane = Step(lane, ref Unsafe.Add(ref entries, Unsafe.Add(ref symbols, i)), ref output, ref top);
        }

        if (rounds > 0)
        {
            fixed (ushort* symbolPointer = _symbols)
            fixed (ushort* wordPointer = words)
            fixed (uint* statePointer = states)
            fixed (ulong* vectorEntries = _vectorEntries)
            {
                byte* area = (byte*)wordPointer;
                byte* end = PrefixRansEncoder.EncodeSymbolRounds31Avx2(symbolPointer, rounds, vectorEntries, statePointer, area + (top * 2), area);

                // The buffer keeps 64 words below the last symbol's, more than a round needs.
                top = end == null ? throw new InvalidOperationException("token encoder word buffer too small") : (nint)(end - area) / 2;
            }
        }

        return (int)top;
    }

    /// <summary>One encoder step: emit the low word when the state would overflow, then x = (x / f) × 4096 + start + x mod f.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint x, ref EncodeEntry e, ref ushort output, ref nint top)
    {
        // The word is always stored below the last one and kept only when the state needed to shed it.
        int emit = (int)(((ulong)e.Limit - 1 - x) >> 63);
        Unsafe.Add(ref output, top - 1) = (ushort)x;
        top -= emit;
        x >>= emit << 4;

        // x / f by multiplication with a rounded-up reciprocal (exact for x < 2^31), as in ryg's rans_byte.
        uint q = (uint)(((ulong)x * e.Reciprocal) >> 32) >> (int)(e.ComplementAndShift >> 16);
        return x + e.Bias + (q * (e.ComplementAndShift & 0xFFFF));
    }

    /// <summary>Fills the encoder's per-symbol entries (reciprocal, bias, renormalisation limit) from the coding frequencies.</summary>
    private void PrepareEntries()
    {
        for (int c = 0; c < _contextCount; c++)
        {
            for (int s = 0; s < _alphabet; s++)
            {
                int index = (c * ContextTokenCoder.MaxAlphabet) + s;
                uint f = _frequencies[index];
                if (f == 0)
                {
                    _entries[index] = default;
                    continue;
                }

                _vectorEntries[index] = PrefixRansEncoder.Entry((int)f, _starts[index]);

                uint complement = ContextTokenCoder.Scale - f;
                if (f == 1)
                {
                    // q must equal x: the reciprocal 2^32 - 1 with shift 0 gives x - 1 for x >= 1, which the bias corrects.
                    _entries[index] = new EncodeEntry(uint.MaxValue, (uint)(_starts[index] + ContextTokenCoder.Scale - 1), f << 19, complement);
                    continue;
                }

                int shift = 0;
                while (f > 1u << shift)
                {
                    shift++;
                }

                _entries[index] = new EncodeEntry((uint)(((1UL << (shift + 31)) + f - 1) / f), _starts[index], f << 19, complement | ((uint)(shift - 1) << 16));
            }
        }
    }

    /// <summary>One symbol's encoding constants, packed in 16 bytes so a step touches one cache line.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct EncodeEntry(uint reciprocal, uint bias, uint limit, uint complementAndShift)
    {
        public readonly uint Reciprocal = reciprocal;
        public readonly uint Bias = bias;

        /// <summary>f × 2^19: states at or above it emit a word first.</summary>
        public readonly uint Limit = limit;

        /// <summary>4096 − f in the low 16 bits, the reciprocal's extra shift above.</summary>
        public readonly uint ComplementAndShift = complementAndShift;
    }

    public void Dispose()
    {
        _symbols = [];
        _residuals = [];
        _extraCounts = [];
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

    private static void Grow<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new T[Math.Max(size, buffer.Length * 2)];
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
