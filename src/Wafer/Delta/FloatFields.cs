using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>
/// Where sign and exponent sit in a float dtype, and the helpers the delta codecs share: reading an element
/// as an unsigned integer, mapping it to a monotone ("ordered") integer, and bucketing the base's exponent.
/// </summary>
internal readonly struct FloatFields
{
    /// <summary>Exponent buckets the delta codecs condition on: distance below the chunk's largest finite exponent, capped.</summary>
    public const int ExponentBuckets = 16;

    private FloatFields(int width, int exponentShift, uint exponentMask)
    {
        Width = width;
        Bits = width * 8;
        ExponentShift = exponentShift;
        ExponentMask = exponentMask;
        ValueMask = Bits == 32 ? uint.MaxValue : (1u << Bits) - 1;
        SignBit = 1u << (Bits - 1);
    }

    public int Width { get; }

    public int Bits { get; }

    public int ExponentShift { get; }

    public uint ExponentMask { get; }

    public uint ValueMask { get; }

    public uint SignBit { get; }

    /// <summary>The fields of <paramref name="dtype"/>; false for types the float delta codecs do not take (F64, integers, opaque).</summary>
    public static bool TryGet(DType dtype, out FloatFields fields)
    {
        fields = dtype switch
        {
            DType.BF16 => new FloatFields(2, 7, 0xFF),
            DType.F16 => new FloatFields(2, 10, 0x1F),
            DType.F32 => new FloatFields(4, 23, 0xFF),
            DType.F8E4M3 => new FloatFields(1, 3, 0xF),
            DType.F8E5M2 => new FloatFields(1, 2, 0x1F),
            _ => default,
        };
        return fields.Width != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read(ReadOnlySpan<byte> data, int index) => Width switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data[(index * 4)..]),
        _ => data[index],
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(Span<byte> data, int index, uint value)
    {
        switch (Width)
        {
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(data[(index * 2)..], (ushort)value);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data[(index * 4)..], value);
                break;
            default:
                data[index] = (byte)value;
                break;
        }
    }

    /// <summary>Sign-magnitude bits to an integer with the same order as the values (-NaN lowest, +NaN highest, -0 just below +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ToOrdered(uint bits) => bits ^ ((bits & SignBit) != 0 ? ValueMask : SignBit);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FromOrdered(uint ordered) => ordered ^ ((ordered & SignBit) != 0 ? SignBit : ValueMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Exponent(uint bits) => (bits >> ExponentShift) & ExponentMask;

    /// <summary>Largest exponent below the all-ones (inf/NaN) one among the base's elements: the bucket anchor.</summary>
    public int Anchor(ReadOnlySpan<byte> reference) => Width switch
    {
        1 => AnchorScalar<Width8>(reference),
        2 => AnchorVector<ushort, Width16>(reference),
        _ => AnchorVector<uint, Width32>(reference),
    };

    /// <summary>
    /// The anchor of 16- or 32-bit elements (<typeparamref name="T"/> their unsigned integer, <typeparamref name="TWidth"/>
    /// their width): vectorised over whole vectors when the hardware allows, the scalar reference for the rest.
    /// </summary>
    private int AnchorVector<T, TWidth>(ReadOnlySpan<byte> reference)
        where T : unmanaged, IBinaryInteger<T>, IUnsignedNumber<T>
        where TWidth : struct, IElementWidth
    {
        int count = reference.Length / TWidth.Bytes;
        int step = Vector<T>.Count;
        if (!Vector.IsHardwareAccelerated || !BitConverter.IsLittleEndian || count < step)
        {
            return AnchorScalar<TWidth>(reference);
        }

        ReadOnlySpan<T> values = MemoryMarshal.Cast<byte, T>(reference[..(count * TWidth.Bytes)]);
        var mask = new Vector<T>(T.CreateTruncating(ExponentMask));
        Vector<T> anchor = Vector<T>.Zero;
        int i = 0;
        for (; i <= count - step; i += step)
        {
            // The all-ones exponent counts as 0: AndNot clears it where it equals the mask.
            Vector<T> e = (new Vector<T>(values.Slice(i, step)) >>> ExponentShift) & mask;
            anchor = Vector.Max(anchor, Vector.AndNot(e, Vector.Equals(e, mask)));
        }

        int result = AnchorScalar<TWidth>(reference[(i * TWidth.Bytes)..]);
        for (int lane = 0; lane < step; lane++)
        {
            result = Math.Max(result, int.CreateTruncating(anchor[lane]));
        }

        return result;
    }

    /// <summary>The scalar reference of <see cref="Anchor"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int AnchorScalar<TWidth>(ReadOnlySpan<byte> reference)
        where TWidth : struct, IElementWidth
    {
        int count = reference.Length / TWidth.Bytes;
        int shift = ExponentShift;
        uint mask = ExponentMask;
        uint anchor = 0;
        for (int i = 0; i < count; i++)
        {
            // Branch-free: the all-ones exponent counts as 0.
            uint e = (TWidth.Read(reference, i) >> shift) & mask;
            anchor = Math.Max(anchor, e == mask ? 0 : e);
        }

        return (int)anchor;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bucket(int anchor, uint exponent)
    {
        int below = anchor - (int)exponent;
        return below <= 0 ? 0 : Math.Min(below, ExponentBuckets - 1);
    }

    /// <summary>Signed difference (wrapping in the element width) to zig-zag form: small magnitudes give small values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ZigZag(uint difference) => ((difference << 1) ^ (0u - (difference >> (Bits - 1)))) & ValueMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint UnZigZag(uint value) => ((value >> 1) ^ (0u - (value & 1))) & ValueMask;

    /// <summary>
    /// The zig-zagged ordered difference of <paramref name="target"/> from <paramref name="reference"/>
    /// (<see cref="ToOrdered"/>, subtract, <see cref="ZigZag"/>) without branches, for the hot loops, which pass the
    /// field constants from their locals: <paramref name="topShift"/> = bits − 1, and the value and sign masks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Residual(uint target, uint reference, int topShift, uint valueMask, uint signBit)
    {
        uint difference = (OrderedBits(target, topShift, valueMask, signBit) - OrderedBits(reference, topShift, valueMask, signBit)) & valueMask;
        return ((difference << 1) ^ (0u - (difference >> topShift))) & valueMask;
    }

    /// <summary>The inverse of <see cref="Residual"/>: the element whose residual from <paramref name="reference"/> is <paramref name="residual"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Rebuild(uint reference, uint residual, int topShift, uint valueMask, uint signBit)
    {
        uint ordered = (OrderedBits(reference, topShift, valueMask, signBit) + ((residual >> 1) ^ (0u - (residual & 1)))) & valueMask;
        return ordered ^ (((0u - ((~ordered >> topShift) & 1)) & valueMask) | signBit);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint OrderedBits(uint bits, int topShift, uint valueMask, uint signBit) => bits ^ (((0u - (bits >> topShift)) & valueMask) | signBit);
}
