using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

internal ref partial struct ContextTokenDecoder
{
    /// <summary>
    /// The <c>delta-ord</c> decoding loop with the coder's state in locals: element i's context is
    /// <paramref name="contextBase"/>[base sign and exponent] + (element i-4's residual ≠ 0) (the same rANS
    /// lane), and its value is the base's ordered integer plus the un-zig-zagged residual.
    /// </summary>
    public void DecodeOrdered<TWidth>(scoped ReadOnlySpan<byte> reference, scoped Span<byte> destination, in FloatFields f, scoped ReadOnlySpan<byte> contextBase, int previousWeight)
        where TWidth : struct, IElementWidth
    {
        int count = destination.Length / TWidth.Bytes;
        if (reference.Length < count * TWidth.Bytes || contextBase.Length <= (int)(f.ValueMask >> f.ExponentShift))
        {
            throw new ArgumentException("reference or context table too short", nameof(reference));
        }

        ref byte symbols = ref MemoryMarshal.GetArrayDataReference(_symbols!);
        ref uint symbolInfo = ref MemoryMarshal.GetArrayDataReference(_symbolInfo!);
        ref byte contexts = ref MemoryMarshal.GetReference(contextBase);
        ReadOnlySpan<byte> words = _words;
        ReadOnlySpan<byte> bits = _bits;
        ulong present = _presentMask;
        uint xa = _x0, xb = _x1, xc = _x2, xd = _x3;
        int pa = 0, pb = 0, pc = 0, pd = 0;
        int wordPosition = _wordPosition;
        int bitPosition = _bitPosition;
        ulong bitBuffer = _bitBuffer;
        int bitCount = _bitCount;
        int shift = f.ExponentShift;
        uint valueMask = f.ValueMask;
        uint signBit = f.SignBit;
        ref uint baseValues = ref MemoryMarshal.GetReference(ValueTokens.BaseValues);
        ref byte extraBitCounts = ref MemoryMarshal.GetReference(ValueTokens.ExtraBitCounts);
        int topShift = f.Bits - 1;
        for (int i = 0; i < count; i++)
        {
            uint b = TWidth.Read(reference, i);
            int context = Unsafe.Add(ref contexts, (int)(b >> shift)) + pa;
            if ((present & (1UL << context)) == 0)
            {
                throw new WaferDataException($"token stream uses context {context}, which has no table");
            }

            uint x = xa;
            uint slot = x & (ContextTokenCoder.Scale - 1);
            int token = Unsafe.Add(ref symbols, (context << ContextTokenCoder.ScaleBits) | (int)slot);
            uint info = Unsafe.Add(ref symbolInfo, (context << 8) | token);
            x = ((info & 0xFFFF) * (x >> ContextTokenCoder.ScaleBits)) + slot - (info >> 16);

            // Renormalise without a data-dependent branch while two word bytes remain; the checked path near the end.
            if (wordPosition <= words.Length - 2)
            {
                uint word = BinaryPrimitives.ReadUInt16LittleEndian(words[wordPosition..]);
                int refill = (int)(((ulong)x - ContextTokenCoder.StateLow) >> 63);
                x = (x << (refill * 16)) | (word & (0u - (uint)refill));
                wordPosition += refill * 2;
            }
            else if (x < ContextTokenCoder.StateLow)
            {
                throw new WaferDataException("token stream runs out of rANS words");
            }

            // Extra bits, branch-free: refill the 64-bit buffer whenever 8 bytes remain, take 0..29 bits.
            if (bitPosition <= bits.Length - 8)
            {
                bitBuffer |= BinaryPrimitives.ReadUInt64LittleEndian(bits[bitPosition..]) << bitCount;
                int taken = (63 - bitCount) >> 3;
                bitPosition += taken;
                bitCount += taken * 8;
            }
            else
            {
                while (bitCount <= 56 && bitPosition < bits.Length)
                {
                    bitBuffer |= (ulong)bits[bitPosition++] << bitCount;
                    bitCount += 8;
                }
            }

            int extraBits = Unsafe.Add(ref extraBitCounts, token);
            if (bitCount < extraBits)
            {
                throw new WaferDataException("token stream runs out of extra bits");
            }

            uint z = Unsafe.Add(ref baseValues, token) | ((uint)bitBuffer & (uint)((1UL << extraBits) - 1));
            bitBuffer >>= extraBits;
            bitCount -= extraBits;

            uint ordered = b ^ (((0u - (b >> topShift)) & valueMask) | signBit);
            ordered = (ordered + ((z >> 1) ^ (0u - (z & 1)))) & valueMask;
            TWidth.Write(destination, i, ordered ^ (((0u - ((~ordered >> topShift) & 1)) & valueMask) | signBit));
            xa = xb;
            xb = xc;
            xc = xd;
            xd = x;
            pa = pb;
            pb = pc;
            pc = pd;
            pd = (int)(((uint)token | (0u - (uint)token)) >> 31) & previousWeight;
        }

        // Lanes rotate every element; which one ends where does not matter to Finish, which wants both at the start value.
        _x0 = xa;
        _x1 = xb;
        _x2 = xc;
        _x3 = xd;
        _wordPosition = wordPosition;
        _bitPosition = bitPosition;
        _bitBuffer = bitBuffer;
        _bitCount = bitCount;
    }
}
