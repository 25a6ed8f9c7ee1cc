using System.Buffers.Binary;
using System.Security.Cryptography;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>
/// Known answers for float-split payloads of narrow (8-state) and wide (32-state) joint-mode streams, whose states
/// keep the raw stream's last bytes: a final block of 3, 2048 and 369 values. CI runs this class with and without
/// hardware intrinsics, so the vector encoders and the scalar loops must all write these exact bytes.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class FloatSplitKnownAnswerTests
{
    [Theory]
    [InlineData(DType.BF16, 5_000, "44bdb210737da5da01a9f0204ca3ecd614cf45a4be3c836aea6618449b125671")]
    [InlineData(DType.BF16, 16_387, "247736f0100244437ca1a300d36cd58fc490ca47df51289ceb398ffd79611129")]
    [InlineData(DType.BF16, 20_480, "5b9cdaf9bea3cbb2bd730e4f3ee761f23c7eeb2cb87248ea7af3463f375ad819")]
    [InlineData(DType.BF16, 70_001, "0b59477a523271e5ce4f1c10747539d6b6d5ce972f6bc459e95bade2fe67e3de")]
    [InlineData(DType.F16, 20_000, "c18d70b4c353da7f31c5b5c92d629af855ea3353c85f43be644a667aa4294659")]
    [InlineData(DType.F32, 5_000, "ba46595b03223f07ed999e04679994dd36c76c7f52406e1edcbca4e1434a491d")]
    [InlineData(DType.F32, 16_387, "b48469b524bc0bff2a0d4ea3e6bf1aad2305231d5ca6d149728c273bf5b4c3e0")]
    [InlineData(DType.F32, 70_001, "38a5e4008c74fa8feef5a4d43f3e5c0db54b58cc6f7c17d418a237cb5e3a2675")]
    public void Float_split_payloads_match_their_known_answers(DType dtype, int count, string sha256)
    {
        byte[] data = Weights(dtype, count, 2026);
        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = FloatSplitCodec.Instance.Encode(data, new ChunkContext(dtype), payload);
        Assert.True(length > 0);
        Assert.Equal(0, FloatSplitCodec.Describe(payload.AsSpan(0, length)).Mode);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(payload.AsSpan(0, length))));

        byte[] decoded = new byte[data.Length];
        FloatSplitCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(dtype), decoded);
        Assert.Equal(data, decoded);
    }

    /// <summary>
    /// F32 chunks holding BF16 values (an upcast checkpoint) are counted through their top halves: the payloads must be
    /// those that counting every F32 value gave (these answers were taken from that code).
    /// </summary>
    [Theory]
    [InlineData(5_000, "d043ee51b0bfa160000c25c1a7b77d61bb9097a83a59c91a21b8ef97078851fe")]
    [InlineData(70_001, "a607e4d1e46094ac5beb06369f943f6ad4f5cfd4948759d56cdf50f973c77872")]
    [InlineData(300_000, "b045857d5972c1067d57eedecc30fd1d9e4b49bc6e894c46819dbb7851525d2f")]
    public void Float_split_payloads_of_f32_holding_bf16_values_match_their_known_answers(int count, string sha256)
    {
        byte[] bf16 = Weights(DType.BF16, count, 2027);
        byte[] data = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i * 4), (uint)BinaryPrimitives.ReadUInt16LittleEndian(bf16.AsSpan(i * 2)) << 16);
        }

        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = FloatSplitCodec.Instance.Encode(data, new ChunkContext(DType.F32), payload);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(payload.AsSpan(0, length))));

        byte[] decoded = new byte[data.Length];
        FloatSplitCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.F32), decoded);
        Assert.Equal(data, decoded);
    }

    /// <summary>Bell-shaped weights of scale 0.02 from integer draws and exact float arithmetic, the same on every machine.</summary>
    /// <summary>
    /// Row-class payloads (mode 2) of a narrow and a wide stream, rows of 128 values and a first column inside a row, and
    /// one whose symbols' raw fields differ in width (written two values per append):
    /// the listed-index vector rounds, and without intrinsics the eight-lane loop, must write these bytes (taken from
    /// the eight-lane loop before the vector rounds served this mode).
    /// </summary>
    [Theory]
    [InlineData(200, 5, false, "b2f4ee14e1ee949e882c6b65e2264a372da622488acfda5b4fadca2782369d55")]
    [InlineData(600, 0, false, "88dedc8da2b10cbe053b31c6e8d94f9bada5f8a95d443d2848123c001906b25b")]
    [InlineData(600, 3, true, "2227a07e3434892c9788d0231f44db5ca00061188e12cd21ff4a69d1557bdf1e")]
    public void Row_class_payloads_match_their_known_answers(int rows, int firstColumn, bool mixedSigns, string sha256)
    {
        const int RowLength = 128;
        byte[] data = RowScaled(RowLength, rows, firstColumn, mixedSigns, seed: rows);
        var context = new ChunkContext(DType.F32, RowLength, firstColumn);
        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = FloatSplitCodec.Instance.Encode(data, context, payload);
        Assert.True(length > 0);
        Assert.Equal(2, FloatSplitCodec.Describe(payload.AsSpan(0, length)).Mode);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(payload.AsSpan(0, length))));

        byte[] decoded = new byte[data.Length];
        FloatSplitCodec.Instance.Decode(payload.AsSpan(0, length), context, decoded);
        Assert.Equal(data, decoded);
    }

    /// <summary>
    /// Previous-exponent payloads (mode 1) with a second mantissa symbol, in a narrow and a wide stream: the listed-index
    /// vector rounds, and without intrinsics the eight-lane loop, must write these bytes (taken from the eight-lane loop
    /// before the vector rounds served this mode).
    /// </summary>
    [Theory]
    [InlineData(30_000, "0d67d074d84fd39f79000f6cd53e031a959ec8f324ba7d8e9cac5de5dc83376f")]
    [InlineData(40_000, "d7c6b9e4bf184c0aa1b589363effdc3a8b513e37a2522d22d6dc67a98f8922e0")]
    public void Previous_exponent_payloads_match_their_known_answers(int count, string sha256)
    {
        byte[] data = ExponentWalk(count, seed: count);
        byte[] payload = new byte[data.Length + CodecSelector.Slack];
        int length = FloatSplitCodec.Instance.Encode(data, new ChunkContext(DType.F32), payload);
        Assert.True(length > 0);
        (int mode, _, int k2) = FloatSplitCodec.Describe(payload.AsSpan(0, length));
        Assert.Equal((1, true), (mode, k2 > 0));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(payload.AsSpan(0, length))));

        byte[] decoded = new byte[data.Length];
        FloatSplitCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.F32), decoded);
        Assert.Equal(data, decoded);
    }

    /// <summary>F32 values whose exponent walks a step at a time (so it follows the previous one) and whose mantissas lean small.</summary>
    private static byte[] ExponentWalk(int count, int seed)
    {
        var rng = new Random(seed);
        byte[] data = new byte[count * 4];
        int exponent = 110;
        for (int i = 0; i < count; i++)
        {
            exponent = Math.Clamp(exponent + rng.Next(3) - 1, 100, 120);
            uint mantissa = (uint)rng.Next(1 << 23) >> rng.Next(3);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 * i), ((uint)rng.Next(2) << 31) | ((uint)exponent << 23) | mantissa);
        }

        return data;
    }

    /// <summary>
    /// F32 values built from integers (no platform maths): each row's exponents around a scale of its own; positive, or
    /// with <paramref name="mixedSigns"/> of either sign at odd exponents, so that symbols' raw fields differ in width.
    /// </summary>
    private static byte[] RowScaled(int rowLength, int rows, int firstColumn, bool mixedSigns, int seed)
    {
        var rng = new Random(seed);
        int[] scale = [.. Enumerable.Range(0, rows).Select(_ => 100 + rng.Next(24))];
        int count = (rowLength * rows) - firstColumn;
        byte[] data = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            int exponent = scale[(i + firstColumn) / rowLength] - (rng.Next(4) == 0 ? rng.Next(6) : 0);
            uint sign = mixedSigns && (exponent & 1) != 0 ? (uint)rng.Next(2) << 31 : 0;
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 * i), sign | ((uint)exponent << 23) | (uint)rng.Next(1 << 23));
        }

        return data;
    }

    private static byte[] Weights(DType dtype, int count, int seed)
    {
        var rng = new Random(seed);
        int size = DTypes.Size(dtype);
        byte[] data = new byte[count * size];
        for (int i = 0; i < count; i++)
        {
            // The sum of four uniform draws, centred: an integer in [-2^17, 2^17), scaled by a power of two.
            int sum = rng.Next(1 << 16) + rng.Next(1 << 16) + rng.Next(1 << 16) + rng.Next(1 << 16) - (1 << 17);
            float value = sum * (0.02f / 65536);
            Span<byte> target = data.AsSpan(i * size, size);
            switch (dtype)
            {
                case DType.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(target, value);
                    break;
                case DType.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(target, (Half)value);
                    break;
                default:
                    BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
                    break;
            }
        }

        return data;
    }
}
