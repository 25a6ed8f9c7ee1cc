using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Wafer.Codecs;

/// <summary>
/// F32 values coded against their BF16 rounding, which the archive holds anyway: mixed-precision training
/// checkpoints store the BF16 model weights and the F32 master weights they were rounded from. Given the
/// BF16 value <c>x</c> (the reference) and the low 16 bits <c>L</c> of the F32, round-to-nearest-even fixes the
/// top 16 bits: <c>x</c> when <c>L &lt; 0x8000</c>, <c>x − 1</c> when <c>L &gt; 0x8000</c>; the tie is taken as
/// <c>x</c>. Values that break the rule (other rounding, NaN payloads) are listed as exceptions, so the
/// codec is lossless for any input; it declines when exceptions exceed 1/32 of the values.
/// </summary>
/// <remarks>
/// Payload: u32 element count n; u32 exception count e; n × u16 low halves; e × (u32 index, u16 top half) with
/// strictly increasing indices. The reference is exactly n BF16 values (2n bytes).
/// </remarks>
internal sealed class F32Bf16ResidualCodec : ChunkCodec
{
    public static readonly F32Bf16ResidualCodec Instance = new();

    private const int HeaderLength = 8;
    private const int ExceptionLength = 6;

    public override string Name => "f32-bf16-residual";

    public override bool NeedsReference => true;

    public override int Encode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        int n = source.Length / 4;
        ReadOnlySpan<byte> reference = context.Reference;
        if (context.DType != DType.F32 || source.Length % 4 != 0 || reference.Length != 2 * n)
        {
            return -1;
        }

        int lowEnd = HeaderLength + (2 * n);
        if (destination.Length < lowEnd)
        {
            return -1;
        }

        var exceptions = new ExceptionList(n / 32, lowEnd);
        bool coded = BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated
            ? SplitVector128(source, reference, destination, ref exceptions)
            : SplitScalar(source, reference, destination, 0, n, ref exceptions);
        if (!coded)
        {
            return -1;
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination, n);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], exceptions.Count);
        return exceptions.Position;
    }

    public override void Decode(ReadOnlySpan<byte> source, scoped in ChunkContext context, Span<byte> destination)
    {
        if (source.Length < HeaderLength || destination.Length % 4 != 0)
        {
            throw new WaferDataException("f32-bf16-residual payload is shorter than its header");
        }

        int n = BinaryPrimitives.ReadInt32LittleEndian(source);
        int exceptions = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        if (n != destination.Length / 4 || exceptions < 0 || exceptions > n)
        {
            throw new WaferDataException($"f32-bf16-residual payload declares {n} values and {exceptions} exceptions for {destination.Length / 4} values");
        }

        if (source.Length != HeaderLength + (2L * n) + ((long)ExceptionLength * exceptions))
        {
            throw new WaferDataException($"f32-bf16-residual payload is {source.Length} bytes, its header implies {HeaderLength + (2L * n) + ((long)ExceptionLength * exceptions)}");
        }

        ReadOnlySpan<byte> reference = context.Reference;
        if (reference.Length != 2 * n)
        {
            throw new WaferDataException($"f32-bf16-residual needs {n} BF16 reference values, got {reference.Length} bytes");
        }

        ReadOnlySpan<byte> lows = source.Slice(HeaderLength, 2 * n);
        if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated)
        {
            JoinVector128(lows, reference, destination);
        }
        else
        {
            JoinScalar(lows, reference, destination, 0);
        }

        ReadOnlySpan<byte> list = source[(HeaderLength + (2 * n))..];
        int previous = -1;
        for (int k = 0; k < exceptions; k++)
        {
            int index = BinaryPrimitives.ReadInt32LittleEndian(list[(k * ExceptionLength)..]);
            if (index <= previous || index >= n)
            {
                throw new WaferDataException($"f32-bf16-residual exception {k} has index {index} (previous {previous}, {n} values)");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(destination[((4 * index) + 2)..], BinaryPrimitives.ReadUInt16LittleEndian(list[((k * ExceptionLength) + 4)..]));
            previous = index;
        }
    }

    /// <summary>
    /// Scalar reference of the encoder's split for values <c>[from, to)</c>: writes their low halves into
    /// <paramref name="destination"/> (after the header) and lists the values whose top half <see cref="Predict"/> misses.
    /// </summary>
    /// <returns>False when the exceptions exceed their cap or the destination's room.</returns>
    internal static bool SplitScalar(ReadOnlySpan<byte> source, ReadOnlySpan<byte> reference, Span<byte> destination, int from, int to, ref ExceptionList exceptions)
    {
        for (int i = from; i < to; i++)
        {
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
            ushort low = (ushort)value;
            ushort high = (ushort)(value >> 16);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(HeaderLength + (2 * i))..], low);
            if (Predict(BinaryPrimitives.ReadUInt16LittleEndian(reference[(2 * i)..]), low) != high && !exceptions.Add(destination, i, high))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Vector128 path of the split over all values (little-endian only), eight at a time; a block with an exception
    /// goes again through the scalar reference. (A Vector256 twin of each path showed no clear gain: it decoded the optim-run
    /// master weights at 19 GB/s in cache, this path at 15-20 across runs, both far above what unpack does with the bytes.)
    /// </summary>
    internal static bool SplitVector128(ReadOnlySpan<byte> source, ReadOnlySpan<byte> reference, Span<byte> destination, ref ExceptionList exceptions)
    {
        int n = source.Length / 4;
        ref uint values = ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort rounded = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(reference));
        ref ushort lows = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(destination[HeaderLength..]));
        Vector128<ushort> half = Vector128.Create((ushort)0x8000);
        int i = 0;
        for (; i + (2 * Vector128<uint>.Count) <= n; i += 2 * Vector128<uint>.Count)
        {
            Vector128<uint> first = Vector128.LoadUnsafe(ref values, (nuint)i);
            Vector128<uint> second = Vector128.LoadUnsafe(ref values, (nuint)(i + Vector128<uint>.Count));
            Vector128<ushort> low = Vector128.Narrow(first & Vector128.Create(0xFFFFu), second & Vector128.Create(0xFFFFu));
            Vector128<ushort> high = Vector128.Narrow(first >>> 16, second >>> 16);

            // Predict: the rounded value, less one (adding the all-ones mask) where the low half is above one half.
            Vector128<ushort> predicted = Vector128.LoadUnsafe(ref rounded, (nuint)i) + Vector128.GreaterThan(low, half);
            low.StoreUnsafe(ref lows, (nuint)i);
            if (predicted != high && !SplitScalar(source, reference, destination, i, i + (2 * Vector128<uint>.Count), ref exceptions))
            {
                return false;
            }
        }

        return SplitScalar(source, reference, destination, i, n, ref exceptions);
    }

    /// <summary>Scalar reference of the decoder's join for values <c>[from, n)</c>: each value from its low half and its predicted top half (exceptions not applied).</summary>
    internal static void JoinScalar(ReadOnlySpan<byte> lows, ReadOnlySpan<byte> reference, Span<byte> destination, int from)
    {
        for (int i = from; i < lows.Length / 2; i++)
        {
            ushort low = BinaryPrimitives.ReadUInt16LittleEndian(lows[(2 * i)..]);
            ushort high = Predict(BinaryPrimitives.ReadUInt16LittleEndian(reference[(2 * i)..]), low);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 * i)..], ((uint)high << 16) | low);
        }
    }

    /// <summary>Vector128 path of the join (little-endian only), eight values at a time.</summary>
    internal static void JoinVector128(ReadOnlySpan<byte> lows, ReadOnlySpan<byte> reference, Span<byte> destination)
    {
        int n = lows.Length / 2;
        ref ushort low16 = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(lows));
        ref ushort rounded = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(reference));
        ref uint values = ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(destination));
        Vector128<ushort> half = Vector128.Create((ushort)0x8000);
        int i = 0;
        for (; i + Vector128<ushort>.Count <= n; i += Vector128<ushort>.Count)
        {
            Vector128<ushort> low = Vector128.LoadUnsafe(ref low16, (nuint)i);
            Vector128<ushort> high = Vector128.LoadUnsafe(ref rounded, (nuint)i) + Vector128.GreaterThan(low, half);
            ((Vector128.WidenLower(high) << 16) | Vector128.WidenLower(low)).StoreUnsafe(ref values, (nuint)i);
            ((Vector128.WidenUpper(high) << 16) | Vector128.WidenUpper(low)).StoreUnsafe(ref values, (nuint)(i + Vector128<uint>.Count));
        }

        JoinScalar(lows, reference, destination, i);
    }

    /// <summary>The top half of an F32 whose round-to-nearest-even BF16 is <paramref name="rounded"/> and whose low half is <paramref name="low"/>.</summary>
    internal static ushort Predict(ushort rounded, ushort low) => low > 0x8000 ? (ushort)(rounded - 1) : rounded;

    /// <summary>The encoder's exception list, written after the low halves: at most <c>cap</c> entries, in index order.</summary>
    internal struct ExceptionList(int cap, int start)
    {
        /// <summary>Where the next entry goes; after the last, the payload's length.</summary>
        public int Position { get; private set; } = start;

        public int Count { get; private set; }

        /// <summary>Appends value <paramref name="index"/>'s top half; false when the cap or the destination's room is reached.</summary>
        public bool Add(Span<byte> destination, int index, ushort high)
        {
            if (Count == cap || Position + ExceptionLength > destination.Length)
            {
                return false;
            }

            BinaryPrimitives.WriteInt32LittleEndian(destination[Position..], index);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(Position + 4)..], high);
            Position += ExceptionLength;
            Count++;
            return true;
        }
    }
}
