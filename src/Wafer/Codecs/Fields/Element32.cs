using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Fields;

/// <summary>32-bit little-endian elements.</summary>
internal readonly unsafe struct Element32 : IElementAccess
{
    public static int Size => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(byte* source, nint index) => BitConverter.IsLittleEndian ? Unsafe.ReadUnaligned<uint>(source + (index * 4)) : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(source + (index * 4)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, nint index, ulong value) => Unsafe.WriteUnaligned(destination + (index * 4), BitConverter.IsLittleEndian ? (uint)value : BinaryPrimitives.ReverseEndianness((uint)value));
}
