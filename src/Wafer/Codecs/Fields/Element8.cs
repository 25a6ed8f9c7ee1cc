using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Wafer.Codecs.Fields;

/// <summary>8-bit little-endian elements.</summary>
internal readonly unsafe struct Element8 : IElementAccess
{
    public static int Size => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(byte* source, nint index) => source[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* destination, nint index, ulong value) => destination[index] = (byte)value;
}
