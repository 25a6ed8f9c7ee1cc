using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

internal sealed partial class ContextTokenEncoder
{
    /// <summary>
    /// The <c>delta-ord</c> collection loop: the same values, contexts and extra bits as calling <see cref="Add"/>
    /// per element (element i's context is <paramref name="contextBase"/>[base sign and exponent]), with the encoder's
    /// state in locals.
    /// Appends <c>target.Length / TWidth.Bytes</c> values to a stream started by <see cref="Reset"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddOrdered<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, ReadOnlySpan<byte> contextBase)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        if (reference.Length < count * TWidth.Bytes || contextBase.Length <= (int)(f.ValueMask >> f.ExponentShift) || _symbols.Length - _count < count || _bits.Length - _bitBytes < (count * 4) + 8)
        {
            throw new ArgumentException("reference, context table or encoder capacity too small", nameof(reference));
        }

        ref int counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        ref ushort symbols = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_symbols), _count);
        ref byte bits = ref MemoryMarshal.GetArrayDataReference(_bits);
        ref byte contexts = ref MemoryMarshal.GetReference(contextBase);
        int shift = f.ExponentShift;
        uint valueMask = f.ValueMask;
        uint signBit = f.SignBit;
        int topShift = f.Bits - 1;
        ulong bitBuffer = _bitBuffer;
        int bitCount = _bitCount;
        nint bitBytes = _bitBytes;
        long extraTotal = 0;

        for (int i = 0; i < count; i++)
        {
            uint b = TWidth.Read(reference, i);
            uint t = TWidth.Read(target, i);
            uint z = FloatFields.Residual(t, b, topShift, valueMask, signBit);
            int context = Unsafe.Add(ref contexts, (int)(b >> shift));
            int token = ValueTokens.Token(z, out int extraBits);
            int symbol = (context * ContextTokenCoder.MaxAlphabet) + token;
            Unsafe.Add(ref symbols, i) = (ushort)symbol;
            Unsafe.Add(ref counts, symbol)++;

            extraTotal += extraBits;
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, z & (uint)((1UL << extraBits) - 1), extraBits);
        }

        _count += count;
        _bitBuffer = bitBuffer;
        _bitCount = bitCount;
        _bitBytes = (int)bitBytes;
        _extraBits += extraTotal;
    }

    /// <summary>
    /// The 16-bit <c>delta-ord</c> collection: <see cref="OrderedResiduals16"/> computes every residual and symbol row
    /// (vectorised), then one serial pass counts the symbols and packs the extra bits. Gives exactly what
    /// <see cref="AddOrdered{TWidth}"/> gives with the equivalent context table.
    /// </summary>
    /// <remarks>
    /// The serial pass takes four elements at a time: their extra bits (at most 13 each) are joined into one value of
    /// at most 52 bits first, so the bit writer's dependency chain advances once per four elements.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddOrdered16(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in OrderedResiduals16.ContextWeights weights)
    {
        int count = target.Length / 2;
        CheckCapacity(count, (count * 4) + 8);

        Grow(ref _residuals, count);
        Span<ushort> symbolSpan = _symbols.AsSpan(_count, count);
        OrderedResiduals16.Compute(target, reference, weights, _residuals.AsSpan(0, count), symbolSpan);
        ref int counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        ref ushort symbols = ref MemoryMarshal.GetReference(symbolSpan);
        ref uint residuals = ref MemoryMarshal.GetArrayDataReference(_residuals);
        ref byte bits = ref MemoryMarshal.GetArrayDataReference(_bits);
        ulong bitBuffer = _bitBuffer;
        int bitCount = _bitCount;
        nint bitBytes = _bitBytes;
        long extraTotal = 0;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, i))++;
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, i + 1))++;
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, i + 2))++;
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, i + 3))++;
            uint p0 = Unsafe.Add(ref residuals, i);
            uint p1 = Unsafe.Add(ref residuals, i + 1);
            uint p2 = Unsafe.Add(ref residuals, i + 2);
            uint p3 = Unsafe.Add(ref residuals, i + 3);
            int at1 = (int)(p0 >> 16);
            int at2 = at1 + (int)(p1 >> 16);
            int at3 = at2 + (int)(p2 >> 16);
            int width = at3 + (int)(p3 >> 16);
            ulong joined = (p0 & 0xFFFF) | ((ulong)(p1 & 0xFFFF) << at1) | ((ulong)(p2 & 0xFFFF) << at2) | ((ulong)(p3 & 0xFFFF) << at3);
            extraTotal += width;
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, joined, width);
        }

        for (; i < count; i++)
        {
            uint packed = Unsafe.Add(ref residuals, i);
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, i))++;
            int extraBits = (int)(packed >> 16);
            extraTotal += extraBits;
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, packed & 0xFFFF, extraBits);
        }

        _count += count;
        _bitBuffer = bitBuffer;
        _bitCount = bitCount;
        _bitBytes = (int)bitBytes;
        _extraBits += extraTotal;
    }

    /// <summary>
    /// The F32 <c>delta-ord</c> collection: <see cref="OrderedResiduals32"/> computes every symbol and residual's extra
    /// bits (vectorised), then one serial pass counts the symbols and packs the bits, two elements' at once when they
    /// fit one write (as on trained weights, where an element's extra bits are mostly 10 to 22). Gives exactly what
    /// <see cref="AddOrdered{TWidth}"/> gives with the equivalent context table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddOrdered32(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in OrderedResiduals16.ContextWeights weights)
    {
        int count = target.Length / 4;
        CheckCapacity(count, (count * 4) + 8);

        Grow(ref _residuals, count);
        Grow(ref _extraCounts, count);
        OrderedResiduals32.Compute(target, reference, weights, _residuals.AsSpan(0, count), _extraCounts.AsSpan(0, count), _symbols.AsSpan(_count, count));
        CountAndAppend(count, count);
    }

    /// <summary>
    /// The <c>delta-xor</c> collection loop: per element, <c>x = target ^ base</c> split into its sign+exponent field
    /// (context: the base's bucket, <paramref name="buckets"/>[base &gt;&gt; shift]) and its mantissa field (context
    /// 16 + 16 × (high ≠ 0) + bucket). The same values as two <see cref="Add"/> calls per element, state in locals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddXor<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, int exponentShift, ReadOnlySpan<byte> buckets)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        if (reference.Length < count * TWidth.Bytes || buckets.Length <= (int)(uint.MaxValue >> (32 - (TWidth.Bytes * 8)) >> exponentShift) || _symbols.Length - _count < 2 * count || _bits.Length - _bitBytes < (count * 8) + 8)
        {
            throw new ArgumentException("reference, bucket table or encoder capacity too small", nameof(reference));
        }

        ref int counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        ref ushort symbols = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_symbols), _count);
        ref byte bits = ref MemoryMarshal.GetArrayDataReference(_bits);
        ref byte bucketOf = ref MemoryMarshal.GetReference(buckets);
        uint mantissaMask = (1u << exponentShift) - 1;
        ulong bitBuffer = _bitBuffer;
        int bitCount = _bitCount;
        nint bitBytes = _bitBytes;
        long extraTotal = 0;
        for (int i = 0; i < count; i++)
        {
            uint b = TWidth.Read(reference, i);
            uint x = TWidth.Read(target, i) ^ b;
            int bucket = Unsafe.Add(ref bucketOf, (int)(b >> exponentShift));
            uint high = x >> exponentShift;
            uint low = x & mantissaMask;
            int highContext = bucket;
            int lowContext = FloatFields.ExponentBuckets + (FloatFields.ExponentBuckets & -(int)((0u - high) >> 31)) + bucket;
            int highToken = ValueTokens.Token(high, out int highExtra);
            int lowToken = ValueTokens.Token(low, out int lowExtra);
            int highSymbol = (highContext * ContextTokenCoder.MaxAlphabet) + highToken;
            int lowSymbol = (lowContext * ContextTokenCoder.MaxAlphabet) + lowToken;
            Unsafe.Add(ref symbols, 2 * i) = (ushort)highSymbol;
            Unsafe.Add(ref symbols, (2 * i) + 1) = (ushort)lowSymbol;
            Unsafe.Add(ref counts, highSymbol)++;
            Unsafe.Add(ref counts, lowSymbol)++;
            extraTotal += highExtra + lowExtra;

            // Both fields' extra bits in order, high then low.
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, high & (uint)((1UL << highExtra) - 1), highExtra);
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, low & (uint)((1UL << lowExtra) - 1), lowExtra);
        }

        _count += 2 * count;
        _bitBuffer = bitBuffer;
        _bitCount = bitCount;
        _bitBytes = (int)bitBytes;
        _extraBits += extraTotal;
    }

    /// <summary>
    /// The 16- and 32-bit <c>delta-xor</c> collection: <see cref="XorFields"/> computes every element's two symbols and
    /// joined extra bits (vectorised), then one serial pass counts the symbols and packs the bits, two elements' per
    /// append (at most 2 × 27 bits). Gives exactly what <see cref="AddXor{TWidth}"/> gives with the equivalent bucket table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddXorFields<TWidth>(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, in FloatFields f, int anchor)
        where TWidth : struct, IElementWidth
    {
        int count = target.Length / TWidth.Bytes;
        CheckCapacity(2 * count, (count * 8) + 8);
        Grow(ref _residuals, count);
        Grow(ref _extraCounts, count);
        XorFields.Compute<TWidth>(target, reference, f, anchor, _symbols.AsSpan(_count, 2 * count), _residuals.AsSpan(0, count), _extraCounts.AsSpan(0, count));
        CountAndAppend(2 * count, count);
    }

    /// <summary>
    /// The serial pass of <see cref="AddOrdered32"/> and <see cref="AddXorFields{TWidth}"/>: counts the
    /// <paramref name="symbolCount"/> symbols written from the stream's end, then appends <paramref name="count"/>
    /// elements' extra bits (<c>_residuals</c>, their counts in <c>_extraCounts</c>), two elements' per write when
    /// they fit one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CountAndAppend(int symbolCount, int count)
    {
        ref int counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        ref ushort symbols = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_symbols), _count);
        int k = 0;
        for (; k + 2 <= symbolCount; k += 2)
        {
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, k))++;
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, k + 1))++;
        }

        if (k < symbolCount)
        {
            Unsafe.Add(ref counts, Unsafe.Add(ref symbols, k))++;
        }

        ref uint extras = ref MemoryMarshal.GetArrayDataReference(_residuals);
        ref byte extraCounts = ref MemoryMarshal.GetArrayDataReference(_extraCounts);
        ref byte bits = ref MemoryMarshal.GetArrayDataReference(_bits);
        ulong bitBuffer = _bitBuffer;
        int bitCount = _bitCount;
        nint bitBytes = _bitBytes;
        long extraTotal = 0;
        int i = 0;
        for (; i + 2 <= count; i += 2)
        {
            int first = Unsafe.Add(ref extraCounts, i);
            int second = Unsafe.Add(ref extraCounts, i + 1);
            ulong firstBits = Unsafe.Add(ref extras, i);
            ulong secondBits = Unsafe.Add(ref extras, i + 1);
            extraTotal += first + second;

            // The bit writer holds up to 7 pending bits and must stay below 64 (its shift by whole bytes written
            // would be a shift by 64), so one write takes at most 56.
            if (first + second <= 56)
            {
                AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, firstBits | (secondBits << first), first + second);
            }
            else
            {
                AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, firstBits, first);
                AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, secondBits, second);
            }
        }

        if (i < count)
        {
            int last = Unsafe.Add(ref extraCounts, i);
            extraTotal += last;
            AppendBits(ref bits, ref bitBuffer, ref bitCount, ref bitBytes, Unsafe.Add(ref extras, i), last);
        }

        _count += symbolCount;
        _bitBuffer = bitBuffer;
        _bitCount = bitCount;
        _bitBytes = (int)bitBytes;
        _extraBits += extraTotal;
    }

    /// <summary>Throws unless the stream started by <see cref="Reset"/> has room for <paramref name="symbols"/> more symbols and <paramref name="bitBytes"/> more bytes of extra bits.</summary>
    private void CheckCapacity(int symbols, int bitBytes)
    {
        if (_symbols.Length - _count < symbols || _bits.Length - _bitBytes < bitBytes)
        {
            throw new ArgumentException("encoder capacity too small", nameof(symbols));
        }
    }

    /// <summary>
    /// The collection loops' branch-free bit writer: appends <paramref name="width"/> bits (<paramref name="value"/>
    /// holds no others, at most 57), stores the 8 buffered bytes at the write position and advances it by the whole
    /// bytes filled, so at most 7 bits stay buffered. The callers' state lives in their locals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AppendBits(ref byte bits, ref ulong buffer, ref int count, ref nint bytes, ulong value, int width)
    {
        buffer |= value << count;
        count += width;
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref bits, bytes), BitConverter.IsLittleEndian ? buffer : BinaryPrimitives.ReverseEndianness(buffer));
        int whole = count >> 3;
        bytes += whole;
        buffer >>= whole << 3;
        count &= 7;
    }
}
