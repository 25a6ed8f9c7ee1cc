using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Fields;

/// <summary>64-bit little-endian elements.</summary>
internal readonly unsafe struct Element64 : IElementAccess
{
    public static int Size => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(byte* source, nint index) => BitConverter.IsLittleEndian ? Unsafe.ReadUnaligned<ulong>(source + (index * 8)) : BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(source + (index * 8)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, nint index, ulong value) => Unsafe.WriteUnaligned(destination + (index * 8), BitConverter.IsLittleEndian ? (ulong)value : BinaryPrimitives.ReverseEndianness((ulong)value));
}
