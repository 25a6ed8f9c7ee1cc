using System.Numerics;
using System.Runtime.CompilerServices;

namespace Wafer.Delta;

/// <summary>
/// Splits an unsigned value into an entropy-coded token and raw extra bits: values below
/// <see cref="DirectTokens"/> are their own token; larger values are coded as their bit length and the two bits
/// below the leading one (the token), followed by the remaining low bits verbatim. Residuals of fine-tuning are
/// concentrated near zero, so the low bits of large values are close to uniform and cost little left raw.
/// </summary>
internal static class ValueTokens
{
    public const int DirectTokens = 32;

    private const int DirectBits = 5;

    /// <summary>The alphabet a value of <paramref name="bits"/> bits needs (44 for 8, 76 for 16, 140 for 32).</summary>
    public static int AlphabetSize(int bits) => DirectTokens + ((bits - DirectBits) * 4);

    /// <summary>Per token: its smallest value (the value with all extra bits zero).</summary>
    public static ReadOnlySpan<uint> BaseValues => s_baseValues;

    /// <summary>Per token: how many extra bits follow it.</summary>
    public static ReadOnlySpan<byte> ExtraBitCounts => s_extraBitCounts;

    private static readonly uint[] s_baseValues = BuildBaseValues();
    private static readonly byte[] s_extraBitCounts = [.. Enumerable.Range(0, 256).Select(t => (byte)(t < DirectTokens || t >= AlphabetSize(32) ? 0 : ExtraBits(t)))];

    /// <summary>Token and extra-bit count of <paramref name="value"/>, without data-dependent branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Token(uint value, out int extraBits)
    {
        // Arithmetic selects, not branches: whether a value is large is a coin flip on real residuals.
        int n = BitOperations.Log2(value | (DirectTokens - 1));
        int shift = n - 2;
        int largeToken = (4 * n) + 8 + (int)(value >> shift);
        int large = -(int)(((ulong)(DirectTokens - 1) - value) >> 63);
        extraBits = shift & large;
        return (largeToken & large) | ((int)value & ~large);
    }

    /// <summary>
    /// <see cref="Token"/> of every lane, for values below 2^24: the token, the count of extra bits and the extra bits.
    /// Converting such a value to float is exact and puts its bit length and the two bits below its leading one in
    /// the float's top bits, so <c>token = (bits(float(value)) &gt;&gt; 21) − 496</c> from 32 up, and the token's
    /// smallest value is that float with its mantissa cut to two bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector<uint> Token, Vector<uint> ExtraBits, Vector<uint> Extra) Split24(Vector<uint> value)
    {
        Vector<int> floatBits = Vector.AsVectorInt32(Vector.ConvertToSingle(Vector.AsVectorInt32(value)));
        Vector<uint> small = Vector.LessThan(value, new Vector<uint>(DirectTokens));
        Vector<uint> token = Vector.ConditionalSelect(small, value, Vector.AsVectorUInt32(Vector.ShiftRightLogical(floatBits, 21) - new Vector<int>(496)));
        Vector<uint> extraBits = Vector.AndNot(Vector.AsVectorUInt32(Vector.ShiftRightLogical(floatBits, 23) - new Vector<int>(129)), small);
        Vector<uint> tokenBase = Vector.AsVectorUInt32(Vector.ConvertToInt32(Vector.AsVectorSingle(floatBits & new Vector<int>(unchecked((int)0xFFE00000)))));
        return (token, extraBits, Vector.AndNot(value - tokenBase, small));
    }

    private static uint[] BuildBaseValues()
    {
        uint[] values = new uint[256];
        for (int t = 0; t < AlphabetSize(32); t++)
        {
            values[t] = Value(t, 0);
        }

        return values;
    }

    /// <summary>Extra bits that follow <paramref name="token"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ExtraBits(int token) => token < DirectTokens ? 0 : ((token - DirectTokens) >> 2) + DirectBits - 2;

    /// <summary>Rebuilds the value from its token and extra bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Value(int token, uint extra)
    {
        if (token < DirectTokens)
        {
            return (uint)token;
        }

        int n = ((token - DirectTokens) >> 2) + DirectBits;
        return (1u << n) | ((uint)(token & 3) << (n - 2)) | extra;
    }
}
