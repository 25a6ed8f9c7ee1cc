using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wafer.Delta;

/// <summary>1-byte elements (FP8).</summary>
internal readonly unsafe struct Width8 : IElementWidth
{
    public static int Bytes => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read(ReadOnlySpan<byte> data, int index) => Unsafe.Add(ref MemoryMarshal.GetReference(data), index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(Span<byte> data, int index, uint value) => Unsafe.Add(ref MemoryMarshal.GetReference(data), index) = (byte)value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Load(byte* data, nint index) => data[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* data, nint index, uint value) => data[index] = (byte)value;
}
