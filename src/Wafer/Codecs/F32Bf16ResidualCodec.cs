using System.Buffers.Binary;

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

        int maxExceptions = n / 32;
        int lowEnd = HeaderLength + (2 * n);
        if (destination.Length < lowEnd)
        {
            return -1;
        }

        int exceptions = 0;
        int position = lowEnd;
        for (int i = 0; i < n; i++)
        {
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
            ushort low = (ushort)value;
            ushort high = (ushort)(value >> 16);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(HeaderLength + (2 * i))..], low);
            if (Predict(BinaryPrimitives.ReadUInt16LittleEndian(reference[(2 * i)..]), low) != high)
            {
                if (++exceptions > maxExceptions || position + ExceptionLength > destination.Length)
                {
                    return -1;
                }

                BinaryPrimitives.WriteInt32LittleEndian(destination[position..], i);
                BinaryPrimitives.WriteUInt16LittleEndian(destination[(position + 4)..], high);
                position += ExceptionLength;
            }
        }

        BinaryPrimitives.WriteInt32LittleEndian(destination, n);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], exceptions);
        return position;
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
        for (int i = 0; i < n; i++)
        {
            ushort low = BinaryPrimitives.ReadUInt16LittleEndian(lows[(2 * i)..]);
            ushort high = Predict(BinaryPrimitives.ReadUInt16LittleEndian(reference[(2 * i)..]), low);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 * i)..], ((uint)high << 16) | low);
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

    /// <summary>The top half of an F32 whose round-to-nearest-even BF16 is <paramref name="rounded"/> and whose low half is <paramref name="low"/>.</summary>
    internal static ushort Predict(ushort rounded, ushort low) => low > 0x8000 ? (ushort)(rounded - 1) : rounded;
}
