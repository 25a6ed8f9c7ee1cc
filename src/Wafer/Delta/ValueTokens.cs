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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Token(uint value, out int extraBits)
    {
        if (value < DirectTokens)
        {
            extraBits = 0;
            return (int)value;
        }

        int n = BitOperations.Log2(value);
        extraBits = n - 2;
        return DirectTokens + ((n - DirectBits) << 2) + (int)((value >> (n - 2)) & 3);
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
