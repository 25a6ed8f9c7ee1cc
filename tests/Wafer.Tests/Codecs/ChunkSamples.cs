using System.Buffers.Binary;

namespace Wafer.Tests.Codecs;

/// <summary>Deterministic chunk contents of every kind the codecs meet, for any dtype.</summary>
internal static class ChunkSamples
{
    public static readonly DType[] FloatTypes = [DType.F64, DType.F32, DType.F16, DType.BF16, DType.F8E4M3, DType.F8E5M2];

    public static readonly DType[] AllTypes = Enum.GetValues<DType>();

    /// <summary>Kinds of content.</summary>
    public enum Kind
    {
        RandomBits,
        Weights,
        Specials,
        FewValues,
        MostlyZero,
        Constant,
        DriftingScale,
    }

    public const int KindCount = 7;

    /// <summary><paramref name="count"/> elements of <paramref name="dtype"/> of the given kind.</summary>
    public static byte[] Make(DType dtype, int count, Kind kind, int seed)
    {
        int size = DTypes.Size(dtype);
        byte[] data = new byte[count * size];
        var rng = new Random(seed);
        ulong[] palette = Enumerable.Range(0, 1 + rng.Next(200)).Select(_ => Weight(dtype, rng, 0.05)).ToArray();
        ulong constant = Weight(dtype, rng, 1);
        double scale = 0.02;
        for (int i = 0; i < count; i++)
        {
            ulong v = kind switch
            {
                Kind.RandomBits => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40),
                Kind.Weights => rng.Next(50) == 0 ? Special(dtype, rng) : Weight(dtype, rng, 0.02),
                Kind.Specials => rng.Next(2) == 0 ? Special(dtype, rng) : Weight(dtype, rng, 1e-3),
                Kind.FewValues => palette[rng.Next(palette.Length)],
                Kind.MostlyZero => rng.Next(10) == 0 ? Weight(dtype, rng, 0.1) : 0,
                Kind.Constant => constant,
                _ => Weight(dtype, rng, scale = Math.Clamp(scale * Math.Exp(rng.NextDouble() - 0.5), 1e-6, 10)),
            };
            Store(data, i, size, v);
        }

        return data;
    }

    /// <summary>A Gaussian weight of standard deviation <paramref name="sigma"/>, as the dtype's bits.</summary>
    public static ulong Weight(DType dtype, Random rng, double sigma)
    {
        double u1 = 1.0 - rng.NextDouble();
        double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * rng.NextDouble()) * sigma;
        return Bits(dtype, g);
    }

    /// <summary>NaNs with payloads, infinities, signed zeros, subnormals, extremes.</summary>
    public static ulong Special(DType dtype, Random rng)
    {
        int size = DTypes.Size(dtype);
        int bits = size * 8;
        ulong signBit = 1UL << (bits - 1);
        ulong all = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        int mantissa = dtype switch
        {
            DType.F64 => 52,
            DType.F32 => 23,
            DType.F16 => 10,
            DType.BF16 => 7,
            DType.F8E4M3 => 3,
            DType.F8E5M2 => 2,
            _ => bits - 1,
        };
        ulong expAll = (all >> 1) & ~((1UL << mantissa) - 1);
        ulong mantMask = (1UL << mantissa) - 1;
        ulong sign = rng.Next(2) == 0 ? 0 : signBit;
        return rng.Next(6) switch
        {
            0 => sign, // signed zero
            1 => sign | expAll, // infinity (NaN in E4M3 where this is the NaN pattern)
            2 => sign | expAll | (1 + ((ulong)rng.NextInt64() & (mantMask >> 1))), // signalling-style NaN payload
            3 => sign | expAll | mantMask, // quiet NaN with full payload
            4 => sign | (1 + ((ulong)rng.NextInt64() & (mantMask - 1))), // subnormal
            _ => sign | (expAll - (1UL << mantissa)) | mantMask, // largest finite
        };
    }

    private static ulong Bits(DType dtype, double value) => dtype switch
    {
        DType.F64 => (ulong)BitConverter.DoubleToInt64Bits(value),
        DType.F32 => (uint)BitConverter.SingleToInt32Bits((float)value),
        DType.F16 => BitConverter.HalfToUInt16Bits((Half)value),
        DType.BF16 => (uint)BitConverter.SingleToInt32Bits((float)value) >> 16,
        DType.F8E5M2 => (ulong)(BitConverter.HalfToUInt16Bits((Half)value) >> 8),
        DType.F8E4M3 => (ulong)((BitConverter.SingleToInt32Bits((float)value) >> 24 & 0x80) | Math.Clamp((int)Math.Round(Math.Log2(Math.Abs(value) + 1e-9) + 7) << 3, 0, 0x78) | (int)(Math.Abs(value) * 97) & 7),
        _ => (ulong)(long)Math.Round(value * 1000),
    };

    private static void Store(byte[] data, int index, int size, ulong v)
    {
        Span<byte> at = data.AsSpan(index * size, size);
        switch (size)
        {
            case 1:
                at[0] = (byte)v;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)v);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)v);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(at, v);
                break;
        }
    }
}
