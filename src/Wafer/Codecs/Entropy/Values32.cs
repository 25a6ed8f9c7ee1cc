using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Entropy;

/// <summary>32-bit values (F32).</summary>
internal readonly unsafe struct Values32 : IRoundValues
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(byte* values, int index) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(values + (4 * (nint)index), 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Load8(byte* values, int index) => Avx.LoadVector256((uint*)values + index);
}
