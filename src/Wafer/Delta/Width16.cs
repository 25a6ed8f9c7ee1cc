using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>2-byte little-endian elements (BF16, F16).</summary>
internal readonly unsafe struct Width16 : IElementWidth
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(byte* data, nint index)
    {
        ushort value = Unsafe.ReadUnaligned<ushort>(data + (index * 2));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* data, nint index, uint value)
    {
        ushort v = BitConverter.IsLittleEndian ? (ushort)value : BinaryPrimitives.ReverseEndianness((ushort)value);
        Unsafe.WriteUnaligned(data + (index * 2), v);
    }
}
