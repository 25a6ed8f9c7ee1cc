namespace Wafer.Codecs.Fields;

/// <summary>The bit fields of an IEEE-like float: sign in the top bit, then exponent, then mantissa.</summary>
/// <param name="Bits">Total width in bits (8, 16, 32 or 64).</param>
/// <param name="ExponentBits">Width of the exponent field.</param>
/// <param name="MantissaBits">Width of the mantissa field.</param>
internal readonly record struct FloatLayout(int Bits, int ExponentBits, int MantissaBits)
{
    /// <summary>The layout of <paramref name="dtype"/>, or null when it is not a float type.</summary>
    public static FloatLayout? For(DType dtype) => dtype switch
    {
        DType.F64 => new FloatLayout(64, 11, 52),
        DType.F32 => new FloatLayout(32, 8, 23),
        DType.F16 => new FloatLayout(16, 5, 10),
        DType.BF16 => new FloatLayout(16, 8, 7),
        DType.F8E4M3 => new FloatLayout(8, 4, 3),
        DType.F8E5M2 => new FloatLayout(8, 5, 2),
        _ => null,
    };

    /// <summary>Bytes per element.</summary>
    public int Bytes => Bits / 8;

    /// <summary>Exponent field of <paramref name="value"/>.</summary>
    public int Exponent(ulong value) => (int)((value >> MantissaBits) & ((1UL << ExponentBits) - 1));

    /// <summary>Mantissa field of <paramref name="value"/>.</summary>
    public ulong Mantissa(ulong value) => value & ((1UL << MantissaBits) - 1);

    /// <summary>Sign bit of <paramref name="value"/>.</summary>
    public int Sign(ulong value) => (int)(value >> (Bits - 1)) & 1;
}
