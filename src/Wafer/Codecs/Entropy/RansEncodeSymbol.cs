using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// A symbol prepared for fast encoding: the division by the frequency becomes a 64×64→128-bit multiply by a
/// reciprocal (exact for every 32-bit state), and the state update becomes one multiply-add.
/// </summary>
internal readonly struct RansEncodeSymbol
{
    /// <summary>ceil(2^64 / f), or 0 for f = 1 (then <see cref="UnitMask"/> supplies q = x).</summary>
    public readonly ulong Reciprocal;

    /// <summary>States at or above this emit a word before coding the symbol (f &lt;&lt; 20).</summary>
    public readonly ulong Limit;

    /// <summary>The symbol's cumulative start.</summary>
    public readonly uint Bias;

    /// <summary>4096 - f.</summary>
    public readonly uint Complement;

    /// <summary>All ones for f = 1, else 0.</summary>
    public readonly uint UnitMask;

    public RansEncodeSymbol(int freq, int start)
    {
        // q = floor(x * ceil'(2^64 / f) / 2^64) equals floor(x / f) for x < 2^32; f = 1 has no 64-bit
        // reciprocal, so it uses q = x through the mask instead.
        Reciprocal = freq <= 1 ? 0 : (ulong.MaxValue / (ulong)freq) + 1;
        UnitMask = freq == 1 ? uint.MaxValue : 0;
        Limit = freq == 0 ? 0 : (ulong)freq << (32 - Rans.ScaleBits);
        Bias = (uint)start;
        Complement = (uint)(Rans.Total - freq);
    }

    /// <summary>True for a symbol that has a frequency (can be coded).</summary>
    public bool IsCodable => Limit != 0;

    /// <summary>Encodes into <paramref name="x"/>; the caller guarantees 2 writable bytes below <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Encode(ref uint x, ref byte* p)
    {
        // Branch-free renormalisation: the word is always stored, and kept only when the state needed it.
        uint s = x;
        bool emit = s >= Limit;
        *(ushort*)(p - 2) = BitConverter.IsLittleEndian ? (ushort)s : BinaryPrimitives.ReverseEndianness((ushort)s);
        p -= emit ? 2 : 0;
        s = emit ? s >> 16 : s;
        uint q = (uint)Math.BigMul(s, Reciprocal, out _) + (s & UnitMask);
        x = s + Bias + (q * Complement);
    }
}
