using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Delta;

internal ref partial struct ContextTokenDecoder
{
    /// <summary>Extra-bit bytes the fast loops can leave unread at the end of the stream (their scalar loop's 8-byte read).</summary>
    private const int ExtraBitsTail = 8;

    /// <summary>The tail's copy: room for the fast loops' reads ahead of any position inside the tail.</summary>
    private const int PaddedTailLength = ExtraBitsTail + OrderedDecodeKernels.ResidualLookahead + 8;

    /// <summary>
    /// The <c>delta-ord</c> decoding loop: element i's context is <paramref name="contextBase"/>[base sign and
    /// exponent] (the vector loop computes the same from <paramref name="weights"/>), and its value is the base's
    /// ordered integer plus the un-zig-zagged residual. Two passes, so each keeps its state in registers: every token
    /// first (<see cref="OrderedDecodeKernels.TokensAvx2{TWidth}"/> for a wide stream on AVX2 machines, then
    /// <see cref="OrderedDecodeKernels.Tokens{TWidth}"/>), then the extra bits are read and the values assembled;
    /// near the end of the word stream, where the kernels' unchecked reads could leave it, a checked loop finishes the
    /// tokens, and the extra bits' last bytes are read from a zero-padded copy.
    /// </summary>
    public unsafe void DecodeOrdered<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> destination, in FloatFields f, scoped ReadOnlySpan<byte> contextBase, in OrderedResiduals16.ContextWeights weights)
        where TWidth : struct, IElementWidth
    {
        int count = destination.Length / TWidth.Bytes;
        if (reference.Length < count * TWidth.Bytes || contextBase.Length <= (int)(f.ValueMask >> f.ExponentShift))
        {
            throw new ArgumentException("reference or context table too short", nameof(reference));
        }

        // Per base sign+exponent value: the first table slot of its context, or the poison block when it has no table.
        Span<uint> rows = stackalloc uint[contextBase.Length];
        for (int v = 0; v < rows.Length; v++)
        {
            int context = contextBase[v];
            rows[v] = (uint)(((_presentMask >> context) & 1) != 0 ? context : _contexts) << ContextTokenCoder.ScaleBits;
        }

        FillPoison();
        byte[] tokenArray = ArrayPool<byte>.Shared.Rent(Math.Max(1, count));
        try
        {
            Span<byte> tokens = tokenArray.AsSpan(0, count);
            int decoded = 0;
            fixed (byte* referencePointer = reference)
            fixed (uint* rowPointer = rows)
            fixed (uint* table = _table)
            fixed (byte* words = _words)
            fixed (byte* tokenPointer = tokens)
            {
                // A ref struct lives on the stack, so its state block does not move.
                uint* states = (uint*)Unsafe.AsPointer(ref _states[0]);
                if (_lanes == ContextTokenCoder.WideLanes && OrderedDecodeKernels.VectorSupported<TWidth>())
                {
                    decoded = OrderedDecodeKernels.TokensAvx2<TWidth>(referencePointer, count, weights, (uint)_presentMask, _contexts, table, words, _words.Length, tokenPointer, states, ref _wordPosition);
                }
                else if (_lanes == ContextTokenCoder.NarrowLanes)
                {
                    decoded = OrderedDecodeKernels.TokensNarrow<TWidth>(referencePointer, count, rowPointer, f.ExponentShift, table, words, _words.Length, tokenPointer, states, ref _wordPosition);
                }

                decoded = OrderedDecodeKernels.Tokens<TWidth>(referencePointer, decoded, count, rowPointer, f.ExponentShift, table, words, _words.Length, tokenPointer, states, _lanes - 1, ref _wordPosition);
            }

            if (tokens[..decoded].Contains((byte)PoisonSymbol))
            {
                throw new WaferDataException("token stream uses a context that has no table");
            }

            DecodeTokensChecked<TWidth>(reference, tokens, decoded, f.ExponentShift, contextBase);
            int assembled = 0;
            if (_bitPosition == 0 && _bitCount == 0)
            {
                // The fast loops read 8 or 16 bytes at their position, so they stop a few bytes before the end of the
                // extra bits; what is left (at most 8 bytes) is copied into a zero-padded buffer and the same loops finish
                // there, a read past the real end showing as a position past it. A stream with few extra bits (values
                // that moved by under 32 ulps) is nearly all tail: it ran element by element through the checked reader,
                // at over twice the cost per element.
                long at = 0;
                fixed (byte* bits = _bits)
                {
                    assembled = AssembleFast<TWidth>(reference, destination, tokens, 0, bits, _bits.Length, ref at, f);
                }

                int from = (int)(at >> 3);
                if (assembled < count && _bits.Length - from <= ExtraBitsTail)
                {
                    Span<byte> padded = stackalloc byte[PaddedTailLength];
                    padded.Clear();
                    _bits[from..].CopyTo(padded);
                    long tailAt = at & 7;
                    fixed (byte* paddedPointer = padded)
                    {
                        assembled = AssembleFast<TWidth>(reference, destination, tokens, assembled, paddedPointer, PaddedTailLength, ref tailAt, f);
                    }

                    at = ((long)from * 8) + tailAt;
                    if (at > (long)_bits.Length * 8)
                    {
                        throw new WaferDataException("token stream runs out of extra bits");
                    }
                }

                // Hand the position to the buffered reader: whole bytes consumed, the rest of a partial byte buffered.
                _bitPosition = (int)(at >> 3);
                int partial = (int)(at & 7);
                if (partial != 0)
                {
                    _bitBuffer = (ulong)_bits[_bitPosition++] >> partial;
                    _bitCount = 8 - partial;
                }
            }

            AssembleChecked<TWidth>(reference, destination, tokens, assembled, f);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tokenArray);
        }
    }

    /// <summary>
    /// Elements <c>from..</c> from their tokens and the extra bits in <paramref name="bits"/> (at bit
    /// <paramref name="at"/>, advanced) with the unchecked fast loops, while their reads stay inside
    /// <paramref name="bitsLength"/>: for 16-bit elements the residuals (eight at a time with AVX2), then the values
    /// rebuilt in bulk; else value by value. Returns the element they stopped at.
    /// </summary>
    private static unsafe int AssembleFast<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> destination, scoped ReadOnlySpan<byte> tokens, int from, byte* bits, int bitsLength, ref long at, in FloatFields f)
        where TWidth : struct, IElementWidth
    {
        int left = tokens.Length - from;
        fixed (byte* tokenPointer = tokens)
        fixed (uint* baseValues = ValueTokens.BaseValues)
        fixed (byte* extraBitCounts = ValueTokens.ExtraBitCounts)
        {
            if (TWidth.Bytes != 2)
            {
                fixed (byte* referencePointer = reference)
                fixed (byte* output = destination)
                {
                    return from + OrderedDecodeKernels.Assemble<TWidth>(referencePointer + (from * TWidth.Bytes), output + (from * TWidth.Bytes), tokenPointer + from, left, bits, bitsLength, ref at, baseValues, extraBitCounts, f.Bits);
                }
            }

            // 16-bit elements: residuals first (serial bit reading), then the values in bulk (vectorised).
            ushort[] residuals = ArrayPool<ushort>.Shared.Rent(Math.Max(1, left));
            try
            {
                int done;
                fixed (ushort* residualPointer = residuals)
                {
                    int vectorDone = Avx2.IsSupported && BitConverter.IsLittleEndian
                        ? OrderedDecodeKernels.Residuals16Avx2(tokenPointer + from, left, bits, bitsLength, ref at, residualPointer)
                        : 0;
                    done = OrderedDecodeKernels.Residuals16(tokenPointer + from, vectorDone, left, bits, bitsLength, ref at, baseValues, extraBitCounts, residualPointer);
                }

                OrderedResiduals16.Rebuild(reference[(from * 2)..], residuals.AsSpan(0, done), destination[(from * 2)..]);
                return from + done;
            }
            finally
            {
                ArrayPool<ushort>.Shared.Return(residuals);
            }
        }
    }

    /// <summary>Tokens from element <paramref name="from"/> on, one at a time with every context and word read checked.</summary>
    private void DecodeTokensChecked<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> tokens, int from, int shift, scoped ReadOnlySpan<byte> contextBase)
        where TWidth : struct, IElementWidth
    {
        int laneMask = _lanes - 1;
        for (int i = from; i < tokens.Length; i++)
        {
            tokens[i] = (byte)NextToken(contextBase[(int)(TWidth.Read(reference, i) >> shift)], i & laneMask);
        }
    }

    /// <summary>Elements from <paramref name="from"/> on, reading extra bits through the checked byte-buffered reader.</summary>
    private void AssembleChecked<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> destination, scoped ReadOnlySpan<byte> tokens, int from, in FloatFields f)
        where TWidth : struct, IElementWidth
    {
        uint valueMask = f.ValueMask;
        uint signBit = f.SignBit;
        int topShift = f.Bits - 1;
        ReadOnlySpan<uint> baseValues = ValueTokens.BaseValues;
        ReadOnlySpan<byte> extraBitCounts = ValueTokens.ExtraBitCounts;
        for (int i = from; i < tokens.Length; i++)
        {
            int token = tokens[i];
            int extraBits = extraBitCounts[token];
            uint z = baseValues[token] | (extraBits == 0 ? 0 : ReadBits(extraBits));
            TWidth.Write(destination, i, FloatFields.Rebuild(TWidth.Read(reference, i), z, topShift, valueMask, signBit));
        }
    }
}
