using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

internal ref partial struct ContextTokenDecoder
{
    private const int Lanes = ContextTokenCoder.Lanes;

    /// <summary>
    /// The <c>delta-ord</c> decoding loop: element i's context is <paramref name="contextBase"/>[base sign and
    /// exponent] + (element i-4's residual ≠ 0) × <paramref name="previousWeight"/> (the same rANS lane), and its
    /// value is the base's ordered integer plus the un-zig-zagged residual. Two passes, so each keeps its state in
    /// registers: the rANS lanes decode every token first (<see cref="OrderedDecodeKernels.Tokens"/>), then the
    /// extra bits are read and the values assembled (<see cref="OrderedDecodeKernels.Assemble"/>); near the ends of
    /// the streams, where the kernels' unchecked reads could leave them, checked loops finish the work.
    /// </summary>
    public unsafe void DecodeOrdered<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> destination, in FloatFields f, scoped ReadOnlySpan<byte> contextBase, int previousWeight)
        where TWidth : struct, IElementWidth
    {
        int count = destination.Length / TWidth.Bytes;
        if (reference.Length < count * TWidth.Bytes || contextBase.Length <= (int)(f.ValueMask >> f.ExponentShift))
        {
            throw new ArgumentException("reference or context table too short", nameof(reference));
        }

        // Four leading zero tokens: element i reads element i-4's at index i, so the first four see "zero".
        byte[] tokenArray = ArrayPool<byte>.Shared.Rent(count + Lanes);
        try
        {
            Span<byte> tokens = tokenArray.AsSpan(0, count + Lanes);
            tokens[..Lanes].Clear();
            int decoded;
            var lanes = new OrderedDecodeKernels.LaneState { X0 = _x0, X1 = _x1, X2 = _x2, X3 = _x3, WordPosition = _wordPosition };
            fixed (byte* referencePointer = reference)
            fixed (byte* contexts = contextBase)
            fixed (byte* symbols = _symbols)
            fixed (uint* symbolInfo = _symbolInfo)
            fixed (byte* words = _words)
            fixed (byte* tokenPointer = tokens)
            {
                decoded = OrderedDecodeKernels.Tokens<TWidth>(referencePointer, count, contexts, f.ExponentShift, previousWeight, _presentMask, symbols, symbolInfo, words, _words.Length, tokenPointer, ref lanes);
            }

            (_x0, _x1, _x2, _x3, _wordPosition) = (lanes.X0, lanes.X1, lanes.X2, lanes.X3, lanes.WordPosition);
            DecodeTokensChecked<TWidth>(reference, tokens, decoded, f.ExponentShift, contextBase, previousWeight);
            int assembled = 0;
            if (_bitPosition == 0 && _bitCount == 0)
            {
                long at = 0;
                fixed (byte* tokenPointer = tokens)
                fixed (byte* bits = _bits)
                fixed (uint* baseValues = ValueTokens.BaseValues)
                fixed (byte* extraBitCounts = ValueTokens.ExtraBitCounts)
                {
                    if (TWidth.Bytes == 2)
                    {
                        // 16-bit elements: residuals first (serial bit reading), then the values in bulk (vectorised).
                        ushort[] residuals = ArrayPool<ushort>.Shared.Rent(Math.Max(1, count));
                        try
                        {
                            fixed (ushort* residualPointer = residuals)
                            {
                                assembled = OrderedDecodeKernels.Residuals16(tokenPointer + Lanes, count, bits, _bits.Length, ref at, baseValues, extraBitCounts, residualPointer);
                            }

                            OrderedResiduals16.Rebuild(reference, residuals.AsSpan(0, assembled), destination);
                        }
                        finally
                        {
                            ArrayPool<ushort>.Shared.Return(residuals);
                        }
                    }
                    else
                    {
                        fixed (byte* referencePointer = reference)
                        fixed (byte* output = destination)
                        {
                            assembled = OrderedDecodeKernels.Assemble<TWidth>(referencePointer, output, tokenPointer + Lanes, count, bits, _bits.Length, ref at, baseValues, extraBitCounts, f.Bits);
                        }
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

            AssembleChecked<TWidth>(reference, destination, tokens[Lanes..], assembled, f);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tokenArray);
        }
    }

    /// <summary>Tokens from element <paramref name="from"/> on, one at a time with every word read checked; the lanes rotate so x0 is always the next element's.</summary>
    private void DecodeTokensChecked<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> tokens, int from, int shift, scoped ReadOnlySpan<byte> contextBase, int weight)
        where TWidth : struct, IElementWidth
    {
        int count = tokens.Length - Lanes;
        uint x0 = _x0, x1 = _x1, x2 = _x2, x3 = _x3;

        // The kernel stops on a multiple of four, so lane 0 is next.
        for (int i = from; i < count; i++)
        {
            int context = contextBase[(int)(TWidth.Read(reference, i) >> shift)] + (weight & (int)((0u - tokens[i]) >> 31));
            if (((_presentMask >> context) & 1) == 0)
            {
                throw new WaferDataException($"token stream uses context {context}, which has no table");
            }

            uint x = x0;
            uint slot = x & (ContextTokenCoder.Scale - 1);
            byte token = _symbols![(context << ContextTokenCoder.ScaleBits) | (int)slot];
            uint info = _symbolInfo![(context << 8) | token];
            x = ((info & 0xFFFF) * (x >> ContextTokenCoder.ScaleBits)) + slot - (info >> 16);
            if (x < ContextTokenCoder.StateLow)
            {
                if (_wordPosition > _words.Length - 2)
                {
                    throw new WaferDataException("token stream runs out of rANS words");
                }

                x = (x << 16) | BinaryPrimitives.ReadUInt16LittleEndian(_words[_wordPosition..]);
                _wordPosition += 2;
            }

            tokens[i + Lanes] = token;
            (x0, x1, x2, x3) = (x1, x2, x3, x);
        }

        // Lanes rotate here; which one ends where does not matter to Finish, which wants all at the start value.
        (_x0, _x1, _x2, _x3) = (x0, x1, x2, x3);
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
            uint b = TWidth.Read(reference, i);
            uint ordered = b ^ (((0u - (b >> topShift)) & valueMask) | signBit);
            ordered = (ordered + ((z >> 1) ^ (0u - (z & 1)))) & valueMask;
            TWidth.Write(destination, i, ordered ^ (((0u - ((~ordered >> topShift) & 1)) & valueMask) | signBit));
        }
    }
}
