using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Wafer.Codecs.Entropy;

namespace Wafer.Delta;

/// <summary>
/// The hot loops of <c>delta-ord</c> decoding as static methods over pinned pointers: with no span or struct state
/// in the loop the JIT keeps every value in a register. Callers check every bound these loops rely on.
/// </summary>
/// <remarks>
/// Element i's context is known before decoding: <c>rows[base_i &gt;&gt; shift]</c> is the first table slot of the
/// context of the base element's sign and exponent, or the poison block when that context has no table (its symbol,
/// <see cref="ContextTokenDecoder.PoisonSymbol"/>, makes the caller throw). So the lanes never wait on each other:
/// the scalar loop's steps overlap, and the AVX2 loop decodes a stream's 32 lanes as four vectors of eight,
/// computing the context rows from the base bits and gathering the table entries.
/// </remarks>
internal static unsafe class OrderedDecodeKernels
{
    /// <summary>Word bytes the AVX2 loop may read ahead of its position in one round of 32 elements.</summary>
    public const int VectorLookahead = 80;

    /// <summary>Whether <see cref="TokensAvx2{TWidth}"/> runs on this machine for elements of <typeparamref name="TWidth"/>.</summary>
    public static bool VectorSupported<TWidth>()
        where TWidth : struct, IElementWidth =>
        Avx2.IsSupported && BitConverter.IsLittleEndian && TWidth.Bytes is 2 or 4;

    /// <summary>
    /// Decodes tokens <c>from..count-1</c> into <paramref name="tokens"/> while the word stream has two bytes left at
    /// the position; element i uses state <c>i &amp; laneMask</c>. Returns the element it stopped at.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Tokens<TWidth>(byte* reference, int from, int count, uint* rows, int shift, uint* table, byte* words, int wordsLength, byte* tokens, uint* states, int laneMask, ref int wordPosition)
        where TWidth : struct, IElementWidth
    {
        nint position = wordPosition;
        nint last = (nint)wordsLength - 2;
        nint i = from;
        for (; i < count && position <= last; i++)
        {
            uint* x = states + (i & laneMask);
            uint entry = table[rows[TWidth.Load(reference, i) >> shift] + (*x & (ContextTokenCoder.Scale - 1))];
            uint y = (((entry & (ContextTokenCoder.Scale - 1)) + 1) * (*x >> ContextTokenCoder.ScaleBits)) + ((entry >> ContextTokenCoder.ScaleBits) & (ContextTokenCoder.Scale - 1));
            uint word = Unsafe.ReadUnaligned<ushort>(words + position);
            word = BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness((ushort)word);
            int refill = (int)(((ulong)y - ContextTokenCoder.StateLow) >> 63);
            position += refill << 1;
            *x = (y << (refill << 4)) | (word & (0u - (uint)refill));
            tokens[i] = (byte)(entry >> 24);
        }

        wordPosition = (int)position;
        return (int)i;
    }

    /// <summary>
    /// <see cref="Tokens{TWidth}"/> for a stream of <see cref="ContextTokenCoder.NarrowLanes"/> states (every stream
    /// under 65,536 symbols), from element 0, four elements a step while 8 word bytes remain: the states stay in locals
    /// (through the state array, each step waited for the last one's stores), and a lane's word comes after those the
    /// lanes before it took in the step. Returns the elements done (a multiple of four); <see cref="Tokens{TWidth}"/>
    /// finishes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int TokensNarrow<TWidth>(byte* reference, int count, uint* rows, int shift, uint* table, byte* words, int wordsLength, byte* tokens, uint* states, ref int wordPosition)
        where TWidth : struct, IElementWidth
    {
        nint p = wordPosition;
        nint last = (nint)wordsLength - 8;
        nint i = 0;
        uint x0 = states[0], x1 = states[1], x2 = states[2], x3 = states[3];
        for (; i + 4 <= count && p <= last; i += 4)
        {
            byte* w = words + p;
            nint taken = 0;
            x0 = NarrowStep(x0, table + rows[TWidth.Load(reference, i) >> shift], tokens + i, w, ref taken);
            x1 = NarrowStep(x1, table + rows[TWidth.Load(reference, i + 1) >> shift], tokens + i + 1, w, ref taken);
            x2 = NarrowStep(x2, table + rows[TWidth.Load(reference, i + 2) >> shift], tokens + i + 2, w, ref taken);
            x3 = NarrowStep(x3, table + rows[TWidth.Load(reference, i + 3) >> shift], tokens + i + 3, w, ref taken);
            p += taken * 2;
        }

        states[0] = x0;
        states[1] = x1;
        states[2] = x2;
        states[3] = x3;
        wordPosition = (int)p;
        return (int)i;
    }

    /// <summary>One lane of a narrow step, as <see cref="Tokens{TWidth}"/> decodes it: the word after the <paramref name="taken"/> words of the lanes before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NarrowStep(uint x, uint* context, byte* token, byte* w, ref nint taken)
    {
        uint entry = context[x & (ContextTokenCoder.Scale - 1)];
        uint y = (((entry & (ContextTokenCoder.Scale - 1)) + 1) * (x >> ContextTokenCoder.ScaleBits)) + ((entry >> ContextTokenCoder.ScaleBits) & (ContextTokenCoder.Scale - 1));
        uint word = Unsafe.ReadUnaligned<ushort>(w + (taken * 2));
        word = BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness((ushort)word);
        int refill = (int)(((ulong)y - ContextTokenCoder.StateLow) >> 63);
        taken += refill;
        *token = (byte)(entry >> 24);
        return (y << (refill << 4)) | (word & (0u - (uint)refill));
    }

    /// <summary>
    /// The AVX2 path of <see cref="Tokens{TWidth}"/> for a stream of <see cref="ContextTokenCoder.WideLanes"/> states,
    /// from element 0, in rounds of 32 elements while at least <see cref="VectorLookahead"/> word bytes remain.
    /// Returns the elements done (a multiple of 32); the scalar loops finish.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int TokensAvx2<TWidth>(byte* reference, int count, in OrderedResiduals16.ContextWeights weights, uint presentMask, int poisonContext, uint* table, byte* words, int wordsLength, byte* tokens, uint* states, ref int wordPosition)
        where TWidth : struct, IElementWidth
    {
        int* permutation = InterleavedRansDecoder.WordPermutation;
        nint p = wordPosition;
        nint safeEnd = (nint)wordsLength - VectorLookahead;
        int i = 0;
        Vector256<uint> x0 = Avx.LoadVector256(states);
        Vector256<uint> x1 = Avx.LoadVector256(states + 8);
        Vector256<uint> x2 = Avx.LoadVector256(states + 16);
        Vector256<uint> x3 = Avx.LoadVector256(states + 24);
        var contexts = new ContextArithmetic(weights, TWidth.Bytes * 8, presentMask, poisonContext);
        for (; i + ContextTokenCoder.WideLanes <= count && p <= safeEnd; i += ContextTokenCoder.WideLanes)
        {
            // The four vectors' gathers are independent, so their latencies overlap.
            Vector256<uint> e0 = Entries<TWidth>(x0, reference, i, contexts, table);
            Vector256<uint> e1 = Entries<TWidth>(x1, reference, i + 8, contexts, table);
            Vector256<uint> e2 = Entries<TWidth>(x2, reference, i + 16, contexts, table);
            Vector256<uint> e3 = Entries<TWidth>(x3, reference, i + 24, contexts, table);
            x0 = Renormalize(Advance(x0, e0), words, ref p, permutation);
            x1 = Renormalize(Advance(x1, e1), words, ref p, permutation);
            x2 = Renormalize(Advance(x2, e2), words, ref p, permutation);
            x3 = Renormalize(Advance(x3, e3), words, ref p, permutation);

            // The symbol is the entry's top byte; narrowing keeps lane order.
            Vector256<ushort> low = Vector256.Narrow(e0 >>> 24, e1 >>> 24);
            Vector256<ushort> high = Vector256.Narrow(e2 >>> 24, e3 >>> 24);
            Vector256.Narrow(low, high).Store(tokens + i);
        }

        x0.Store(states);
        x1.Store(states + 8);
        x2.Store(states + 16);
        x3.Store(states + 24);
        wordPosition = (int)p;
        return i;
    }

    /// <summary>The table entries of elements <c>i..i+7</c>: their context rows from their base bits, then the slot of each state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Entries<TWidth>(Vector256<uint> x, byte* reference, int i, in ContextArithmetic contexts, uint* table)
        where TWidth : struct, IElementWidth
    {
        Vector256<uint> bits = TWidth.Bytes == 2
            ? Avx2.ConvertToVector256Int32((ushort*)reference + i).AsUInt32()
            : Avx.LoadVector256((uint*)reference + i);
        return Avx2.GatherVector256(table, contexts.Rows(bits) + (x & Vector256.Create((uint)ContextTokenCoder.Scale - 1)).AsInt32(), 4);
    }

    /// <summary>
    /// The <c>delta-ord</c> context of eight base elements computed, not looked up (a gather less per step):
    /// <c>bucket × bucketWeight + sign × signWeight</c>, as the first slot of its table, or of the poison block when
    /// the context has no table.
    /// </summary>
    private readonly struct ContextArithmetic
    {
        private readonly Vector256<int> _anchor;
        private readonly Vector256<uint> _exponentMask;
        private readonly Vector256<int> _bucketWeight;
        private readonly Vector256<int> _signWeight;
        private readonly Vector256<uint> _present;
        private readonly Vector256<int> _poisonRow;
        private readonly int _exponentShift;
        private readonly int _signShift;

        public ContextArithmetic(in OrderedResiduals16.ContextWeights weights, int bits, uint presentMask, int poisonContext)
        {
            _anchor = Vector256.Create(weights.Anchor);
            _exponentMask = Vector256.Create(weights.ExponentMask);
            _bucketWeight = Vector256.Create(weights.BucketWeight);
            _signWeight = Vector256.Create(weights.SignWeight);
            _present = Vector256.Create(presentMask);
            _poisonRow = Vector256.Create(poisonContext << ContextTokenCoder.ScaleBits);
            _exponentShift = (int)weights.ExponentShift;
            _signShift = bits - 1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Rows(Vector256<uint> bits)
        {
            Vector256<int> exponent = ((bits >>> _exponentShift) & _exponentMask).AsInt32();
            Vector256<int> bucket = Vector256.Min(Vector256.Max(_anchor - exponent, Vector256<int>.Zero), Vector256.Create(FloatFields.ExponentBuckets - 1));
            Vector256<int> context = (bucket * _bucketWeight) + ((bits >>> _signShift).AsInt32() * _signWeight);
            Vector256<int> present = (Avx2.ShiftRightLogicalVariable(_present, context.AsUInt32()) & Vector256<uint>.One).AsInt32();
            return Vector256.ConditionalSelect(Vector256.Equals(present, Vector256<int>.Zero), _poisonRow, context << ContextTokenCoder.ScaleBits);
        }
    }

    /// <summary>One decoding step on eight lanes: <c>x = frequency × (x &gt;&gt; 12) + offset</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Advance(Vector256<uint> x, Vector256<uint> entry)
    {
        Vector256<uint> slotMask = Vector256.Create((uint)ContextTokenCoder.Scale - 1);
        Vector256<uint> frequency = (entry & slotMask) + Vector256<uint>.One;
        return Avx2.MultiplyLow(frequency, x >>> ContextTokenCoder.ScaleBits) + ((entry >>> ContextTokenCoder.ScaleBits) & slotMask);
    }

    /// <summary>Shifts a word into every lane below <see cref="ContextTokenCoder.StateLow"/>, the words taken in lane order from <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Renormalize(Vector256<uint> y, byte* words, ref nint p, int* permutation)
    {
        // Signed compare: a state at or above 2^31 (only a corrupt stream makes one) takes a word too, harmlessly.
        Vector256<uint> needs = Avx2.CompareGreaterThan(Vector256.Create((int)ContextTokenCoder.StateLow), y.AsInt32()).AsUInt32();
        uint mask = needs.ExtractMostSignificantBits();
        Vector256<uint> loaded = Avx2.ConvertToVector256Int32((ushort*)(words + p)).AsUInt32();
        Vector256<uint> placed = Avx2.PermuteVar8x32(loaded, Avx.LoadVector256(permutation + (mask * 8)).AsUInt32());
        p += BitOperations.PopCount(mask) * 2;
        return Vector256.ConditionalSelect(needs, (y << 16) | placed, y);
    }

    /// <summary>
    /// Rebuilds elements <c>0..count-1</c> from their tokens and extra bits while an 8-byte load at the bit position
    /// stays inside <paramref name="bitsLength"/>: element i's value is the base's ordered integer plus the
    /// un-zig-zagged residual. <paramref name="bitPosition"/> is in bits, advanced; returns the elements done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Assemble<TWidth>(byte* reference, byte* destination, byte* tokens, int count, byte* bits, int bitsLength, ref long bitPosition, uint* baseValues, byte* extraBitCounts, int bitsPerElement)
        where TWidth : struct, IElementWidth
    {
        uint valueMask = bitsPerElement == 32 ? uint.MaxValue : (1u << bitsPerElement) - 1;
        uint signBit = 1u << (bitsPerElement - 1);
        int topShift = bitsPerElement - 1;
        long at = bitPosition;
        long end = ((long)bitsLength - 8) * 8;
        nint i = 0;
        for (; i < count && at <= end; i++)
        {
            uint token = tokens[i];
            int extraBits = extraBitCounts[token];
            ulong window = Unsafe.ReadUnaligned<ulong>(bits + (at >> 3));
            window = BitConverter.IsLittleEndian ? window : BinaryPrimitives.ReverseEndianness(window);
            uint z = baseValues[token] | ((uint)(window >> (int)(at & 7)) & (uint)((1UL << extraBits) - 1));
            at += extraBits;
            TWidth.Store(destination, i, FloatFields.Rebuild(TWidth.Load(reference, i), z, topShift, valueMask, signBit));
        }

        bitPosition = at;
        return (int)i;
    }

    /// <summary>Extra-bit bytes <see cref="Residuals16Avx2"/> may read ahead of its position.</summary>
    public const int ResidualLookahead = 24;

    /// <summary>
    /// The AVX2 path of <see cref="Residuals16"/>: eight elements at a time while <see cref="ResidualLookahead"/>
    /// bytes remain at the bit position. Tokens must be below the 16-bit alphabet (76), as a stream's tables
    /// guarantee. Returns the elements done (a multiple of eight); <see cref="Residuals16"/> finishes.
    /// </summary>
    /// <remarks>
    /// The eight tokens are worked on as the bytes of one 64-bit integer: each one's extra-bit count (none below 32,
    /// else token / 4 − 5, at most 13) and leading bits, and with one multiplication the running sums of the counts,
    /// which place the fields (every byte stays below 256: at most 8 × 13). The fields all lie in the 128 bits from
    /// the byte at the position (7 + 8 × 13 bits at most), so one byte shuffle gathers each lane's three bytes from a
    /// 16-byte load, and a variable shift aligns them.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Residuals16Avx2(byte* tokens, int count, byte* bits, int bitsLength, ref long bitPosition, ushort* residuals)
    {
        const ulong Ones = 0x0101010101010101;
        long at = bitPosition;
        long end = ((long)bitsLength - ResidualLookahead) * 8;

        // Each dword lane's shuffle control picks bytes b, b + 1 and b + 2 of the window and zero, from b in its low byte.
        Vector256<byte> spread = Vector256.Create((byte)0, 0, 0, 0x80, 4, 4, 4, 0x80, 8, 8, 8, 0x80, 12, 12, 12, 0x80, 0, 0, 0, 0x80, 4, 4, 4, 0x80, 8, 8, 8, 0x80, 12, 12, 12, 0x80);
        Vector256<byte> nextBytes = Vector256.Create(0x00020100u).AsByte();
        int i = 0;
        for (; i + 8 <= count && at <= end; i += 8)
        {
            // Per token byte: escaped (at least 32, so it has extra bits), its extra-bit count, its leading bits.
            ulong token = Unsafe.ReadUnaligned<ulong>(tokens + i);
            ulong escaped = ((token + (0x60 * Ones)) >> 7) & Ones;
            ulong extra = ((token >> 2) & (0x3F * Ones) & (escaped * 0xFF)) - (escaped * 5);
            ulong lead = token ^ ((token ^ ((token & (3 * Ones)) | (4 * Ones))) & (escaped * 0xFF));
            ulong sums = extra * Ones;

            // Each field's bit offset from the byte at the position: the exclusive running sum plus the position's bit.
            Vector256<int> offset = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(sums << 8).AsByte()) + Vector256.Create((int)(at & 7));
            Vector256<byte> window = Vector256.Create(Vector128.Load(bits + (at >> 3)));
            Vector256<byte> control = Avx2.Shuffle((offset >>> 3).AsByte(), spread) + nextBytes;
            Vector256<uint> field = Avx2.ShiftRightLogicalVariable(Avx2.Shuffle(window, control).AsUInt32(), (offset & Vector256.Create(7)).AsUInt32());

            // A token's smallest value is its leading bits shifted up by its extra-bit count (direct tokens: itself).
            Vector256<uint> width = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(extra).AsByte()).AsUInt32();
            Vector256<uint> smallest = Avx2.ShiftLeftLogicalVariable(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(lead).AsByte()).AsUInt32(), width);
            Vector256<uint> value = smallest | (field & (Avx2.ShiftLeftLogicalVariable(Vector256<uint>.One, width) - Vector256<uint>.One));
            Sse41.PackUnsignedSaturate(value.GetLower().AsInt32(), value.GetUpper().AsInt32()).Store(residuals + i);
            at += (long)(sums >> 56);
        }

        bitPosition = at;
        return i;
    }

    /// <summary>
    /// The residuals of 16-bit elements <c>from..count-1</c> (<paramref name="residuals"/>[i] = the zig-zagged
    /// difference) from their tokens and extra bits, while an 8-byte load at the bit position stays inside
    /// <paramref name="bitsLength"/>; the values are then rebuilt in bulk by <see cref="OrderedResiduals16.Rebuild"/>.
    /// <paramref name="bitPosition"/> is in bits, advanced; returns the elements done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Residuals16(byte* tokens, int from, int count, byte* bits, int bitsLength, ref long bitPosition, uint* baseValues, byte* extraBitCounts, ushort* residuals)
    {
        long at = bitPosition;
        long end = ((long)bitsLength - 8) * 8;
        nint i = from;
        for (; i < count && at <= end; i++)
        {
            uint token = tokens[i];
            int extraBits = extraBitCounts[token];
            ulong window = Unsafe.ReadUnaligned<ulong>(bits + (at >> 3));
            window = BitConverter.IsLittleEndian ? window : BinaryPrimitives.ReverseEndianness(window);
            residuals[i] = (ushort)(baseValues[token] | ((uint)(window >> (int)(at & 7)) & (uint)((1UL << extraBits) - 1)));
            at += extraBits;
        }

        bitPosition = at;
        return (int)i;
    }
}
