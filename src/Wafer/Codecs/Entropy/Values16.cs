using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Entropy;

/// <summary>16-bit values (BF16, F16, the token coder's symbols).</summary>
internal readonly unsafe struct Values16 : IRoundValues
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(byte* values, int index) => BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(values + (2 * (nint)index), 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Load8(byte* values, int index) => Avx2.ConvertToVector256Int32((ushort*)values + index).AsUInt32();
}
