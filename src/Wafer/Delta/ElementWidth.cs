using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>
/// Element access specialised per width: the delta kernels are generic over these structs, so the JIT emits one
/// tight loop per width instead of branching on the width per element.
/// </summary>
internal interface IElementWidth
{
    static abstract int Bytes { get; }

    static abstract uint Read(ReadOnlySpan<byte> data, int index);

    static abstract void Write(Span<byte> data, int index, uint value);
}

/// <summary>1-byte elements (FP8).</summary>
internal readonly struct Width8 : IElementWidth
{
    public static int Bytes => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read(ReadOnlySpan<byte> data, int index) => Unsafe.Add(ref MemoryMarshal.GetReference(data), index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Span<byte> data, int index, uint value) => Unsafe.Add(ref MemoryMarshal.GetReference(data), index) = (byte)value;
}

/// <summary>2-byte little-endian elements (BF16, F16).</summary>
internal readonly struct Width16 : IElementWidth
{
    public static int Bytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read(ReadOnlySpan<byte> data, int index)
    {
        ushort value = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), index * 2));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Span<byte> data, int index, uint value)
    {
        ushort v = BitConverter.IsLittleEndian ? (ushort)value : BinaryPrimitives.ReverseEndianness((ushort)value);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), index * 2), v);
    }
}

/// <summary>4-byte little-endian elements (F32).</summary>
internal readonly struct Width32 : IElementWidth
{
    public static int Bytes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read(ReadOnlySpan<byte> data, int index)
    {
        uint value = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), index * 4));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Span<byte> data, int index, uint value)
    {
        uint v = BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), index * 4), v);
    }
}
