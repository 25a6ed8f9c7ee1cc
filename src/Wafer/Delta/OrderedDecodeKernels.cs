using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Delta;

/// <summary>
/// The two hot loops of <c>delta-ord</c> decoding as static methods over pinned pointers: with no span or struct
/// state in the loop the JIT keeps every value in a register. Callers check every bound these loops rely on.
/// </summary>
internal static unsafe class OrderedDecodeKernels
{
    /// <summary>The rANS lane states and the read position in the word stream, carried between calls.</summary>
    public struct LaneState
    {
        public uint X0;
        public uint X1;
        public uint X2;
        public uint X3;
        public int WordPosition;
    }

    /// <summary>
    /// Decodes tokens <c>i = 0..count-1</c> into <c>tokens[i + 4]</c> (<c>tokens[0..4)</c> are zero) while every
    /// lane is sure to find its word: four elements per iteration and at least 8 word bytes left. Element i's context
    /// is <c>contexts[base_i &gt;&gt; shift] + weight × (tokens[i] ≠ 0)</c> (element i − 4's token). Returns the
    /// elements done; throws when a context has no table (bit clear in <paramref name="present"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Tokens<TWidth>(byte* reference, int count, byte* contexts, int shift, int weight, ulong present, byte* symbols, uint* symbolInfo, byte* words, int wordsLength, byte* tokens, ref LaneState lanes)
        where TWidth : struct, IElementWidth
    {
        uint x0 = lanes.X0, x1 = lanes.X1, x2 = lanes.X2, x3 = lanes.X3;
        nint position = lanes.WordPosition;
        nint last = (nint)wordsLength - 8;
        nint i = 0;
        for (; i + 4 <= count && position <= last; i += 4)
        {
            x0 = Step(x0, Context<TWidth>(reference, i, contexts, shift, weight, tokens, present), symbols, symbolInfo, words, ref position, tokens + i + 4);
            x1 = Step(x1, Context<TWidth>(reference, i + 1, contexts, shift, weight, tokens, present), symbols, symbolInfo, words, ref position, tokens + i + 5);
            x2 = Step(x2, Context<TWidth>(reference, i + 2, contexts, shift, weight, tokens, present), symbols, symbolInfo, words, ref position, tokens + i + 6);
            x3 = Step(x3, Context<TWidth>(reference, i + 3, contexts, shift, weight, tokens, present), symbols, symbolInfo, words, ref position, tokens + i + 7);
        }

        lanes.X0 = x0;
        lanes.X1 = x1;
        lanes.X2 = x2;
        lanes.X3 = x3;
        lanes.WordPosition = (int)position;
        return (int)i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Context<TWidth>(byte* reference, nint i, byte* contexts, int shift, int weight, byte* tokens, ulong present)
        where TWidth : struct, IElementWidth
    {
        int context = contexts[TWidth.Load(reference, i) >> shift] + (weight & (int)((0u - tokens[i]) >> 31));
        if (((present >> context) & 1) == 0)
        {
            ThrowMissingTable(context);
        }

        return context;
    }

    /// <summary>One rANS step: symbol lookup, state update, branch-free renormalisation (the word is read always, used when needed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(uint x, int context, byte* symbols, uint* symbolInfo, byte* words, ref nint position, byte* token)
    {
        uint slot = x & (ContextTokenCoder.Scale - 1);
        byte symbol = symbols[(context << ContextTokenCoder.ScaleBits) | (int)slot];
        uint info = symbolInfo[(context << 8) | symbol];
        x = ((info & 0xFFFF) * (x >> ContextTokenCoder.ScaleBits)) + slot - (info >> 16);
        uint word = Unsafe.ReadUnaligned<ushort>(words + position);
        word = BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness((ushort)word);
        int refill = (int)(((ulong)x - ContextTokenCoder.StateLow) >> 63);
        position += refill << 1;
        *token = symbol;
        return (x << (refill << 4)) | (word & (0u - (uint)refill));
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
            uint b = TWidth.Load(reference, i);
            uint ordered = b ^ (((0u - (b >> topShift)) & valueMask) | signBit);
            ordered = (ordered + ((z >> 1) ^ (0u - (z & 1)))) & valueMask;
            TWidth.Store(destination, i, ordered ^ (((0u - ((~ordered >> topShift) & 1)) & valueMask) | signBit));
        }

        bitPosition = at;
        return (int)i;
    }

    /// <summary>
    /// The residuals of 16-bit elements <c>0..count-1</c> (<paramref name="residuals"/>[i] = the zig-zagged
    /// difference) from their tokens and extra bits, while an 8-byte load at the bit position stays inside
    /// <paramref name="bitsLength"/>; the values are then rebuilt in bulk by <see cref="OrderedResiduals16.Rebuild"/>.
    /// <paramref name="bitPosition"/> is in bits, advanced; returns the elements done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Residuals16(byte* tokens, int count, byte* bits, int bitsLength, ref long bitPosition, uint* baseValues, byte* extraBitCounts, ushort* residuals)
    {
        long at = bitPosition;
        long end = ((long)bitsLength - 8) * 8;
        nint i = 0;
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

    private static void ThrowMissingTable(int context) =>
        throw new WaferDataException($"token stream uses context {context}, which has no table");
}
