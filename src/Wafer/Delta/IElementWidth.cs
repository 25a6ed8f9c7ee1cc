namespace Wafer.Delta;

/// <summary>
/// Element access specialised per width: the delta kernels are generic over these structs, so the JIT emits one
/// tight loop per width instead of branching on the width per element. Reads and writes are unchecked: callers
/// bound <c>index</c> by the span lengths before their loops.
/// </summary>
internal unsafe interface IElementWidth
{
    static abstract int Bytes { get; }

    static abstract uint Read(ReadOnlySpan<byte> data, int index);

    static abstract void Write(Span<byte> data, int index, uint value);

    /// <summary>Element <paramref name="index"/> of pinned data (the kernels' form: no span bookkeeping in the loop).</summary>
    static abstract uint Load(byte* data, nint index);

    static abstract void Store(byte* data, nint index, uint value);
}
