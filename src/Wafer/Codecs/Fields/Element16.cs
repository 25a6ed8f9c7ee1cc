using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Fields;

/// <summary>16-bit little-endian elements.</summary>
internal readonly unsafe struct Element16 : IElementAccess
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(byte* source, nint index) => BitConverter.IsLittleEndian ? Unsafe.ReadUnaligned<ushort>(source + (index * 2)) : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(source + (index * 2)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, nint index, ulong value) => Unsafe.WriteUnaligned(destination + (index * 2), BitConverter.IsLittleEndian ? (ushort)value : BinaryPrimitives.ReverseEndianness((ushort)value));
}
