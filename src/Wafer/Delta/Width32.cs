using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>4-byte little-endian elements (F32).</summary>
internal readonly unsafe struct Width32 : IElementWidth
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(byte* data, nint index)
    {
        uint value = Unsafe.ReadUnaligned<uint>(data + (index * 4));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* data, nint index, uint value)
    {
        uint v = BitConverter.IsLittleEndian ? (uint)value : BinaryPrimitives.ReverseEndianness((uint)value);
        Unsafe.WriteUnaligned(data + (index * 4), v);
    }
}
