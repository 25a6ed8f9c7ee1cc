using CsCheck;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>float-split's row-class mode: chunks of tensors whose rows differ in scale, given the row geometry.</summary>
[Trait("Category", "Kernels")]
public sealed class RowClassTests
{
    [Theory]
    [InlineData(128, 512, 0)]
    [InlineData(8, 2304, 0)]
    [InlineData(352, 128, 1)]
    [InlineData(352, 128, 351)]
    [InlineData(1000, 33, 500)]
    [InlineData(128, 400, 0)]
    public void Rows_of_different_scales_are_coded_per_row_class_and_round_trip(int rowLength, int rows, int firstColumn)
    {
        byte[] data = ScaledRows(rowLength, rows, firstColumn, seed: rowLength + rows);
        byte[] plain = Encode(data, new ChunkContext(DType.F32));
        byte[] payload = Encode(data, new ChunkContext(DType.F32, rowLength, firstColumn));
        Assert.Equal(2, FloatSplitCodec.Describe(payload).Mode);
        Assert.True(payload.Length < plain.Length * 0.99, $"row classes saved too little: {payload.Length} vs {plain.Length} bytes");
        Assert.Equal(data, CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, payload, DType.F32, data.Length));

        // Deterministic, and a destination one byte short fails cleanly.
        Assert.Equal(payload, Encode(data, new ChunkContext(DType.F32, rowLength, firstColumn)));
        Assert.Throws<WaferDataException>(() => FloatSplitCodec.Instance.Decode(payload, new ChunkContext(DType.F32), new byte[data.Length - 4]));
    }

    /// <summary>
    /// 16-bit chunks estimate row classes only when sampled rows differ by more than two binades: a LoRA B-like
    /// tensor (rows of 8, each with its own scale) takes them; dense weights of one scale never pay for the estimate.
    /// </summary>
    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void Sixteen_bit_rows_of_different_scales_take_row_classes_and_dense_rows_do_not(DType dtype)
    {
        byte[] scaled = GaussianRows(dtype, 8, 2304, spread: 6, seed: 3);
        byte[] plain = Encode(scaled, new ChunkContext(dtype));
        byte[] payload = Encode(scaled, new ChunkContext(dtype, 8, 0));
        Assert.Equal(2, FloatSplitCodec.Describe(payload).Mode);
        Assert.True(payload.Length < plain.Length * 0.97, $"row classes saved too little: {payload.Length} vs {plain.Length} bytes");
        Assert.Equal(scaled, CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, payload, dtype, scaled.Length));

        byte[] dense = GaussianRows(dtype, 384, 256, spread: 0, seed: 4);
        Assert.Equal(Encode(dense, new ChunkContext(dtype)), Encode(dense, new ChunkContext(dtype, 384, 0)));
    }

    [Fact]
    public void Rows_rank_by_key_and_equal_keys_by_row()
    {
        // Few distinct low keys (many ties) and keys of up to 40 bits (four radix passes); 0 and 1 row too.
        Gen.Select(Gen.Int[0, 3000], Gen.Int[1, 40], Gen.Int).Sample((rows, bits, seed) =>
        {
            var random = new Random(seed);
            ulong[] keys = new ulong[rows];
            for (int r = 0; r < rows; r++)
            {
                keys[r] = (ulong)random.NextInt64(1L << bits);
            }

            ulong largest = rows == 0 ? 0 : keys.Max();
            int[] expected = [.. Enumerable.Range(0, rows).OrderBy(r => keys[r]).ThenBy(r => r)];
            Assert.Equal(expected, FloatSplitCodec.RankRows(keys, largest));
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void Any_values_and_any_row_geometry_round_trip()
    {
        DType[] dtypes = [DType.F32, DType.F64, DType.BF16, DType.F16];
        Gen.Select(Gen.Int[0, ChunkSamples.KindCount - 1], Gen.Int[2, 3000], Gen.Int[4096, 20000], Gen.Int, Gen.Int[0, 3]).Sample((kind, rowLength, count, seed, type) =>
        {
            DType dtype = dtypes[type];
            byte[] data = ChunkSamples.Make(dtype, count, (ChunkSamples.Kind)kind, seed);
            int firstColumn = (int)((uint)seed % (uint)rowLength);
            byte[] buffer = new byte[data.Length + CodecSelector.Slack];
            int written = FloatSplitCodec.Instance.Encode(data, new ChunkContext(dtype, rowLength, firstColumn), buffer);
            if (written >= 0)
            {
                Assert.Equal(data, CodecAssert.DecodeGuarded(FloatSplitCodec.Instance, buffer[..written], dtype, data.Length));
            }
        }, iter: 60, threads: 1);
    }

    [Fact]
    public void Damaged_row_class_payloads_fail_cleanly()
    {
        byte[] data = ScaledRows(64, 256, 3, seed: 5);
        byte[] payload = Encode(data, new ChunkContext(DType.F32, 64, 3));
        Assert.Equal(2, FloatSplitCodec.Describe(payload).Mode);
        for (int cut = 0; cut < payload.Length; cut += Math.Max(1, payload.Length / 300))
        {
            Assert.False(CodecAssert.DecodeDamaged(FloatSplitCodec.Instance, payload[..cut], DType.F32, data.Length), $"payload cut to {cut} bytes was accepted");
        }

        var rng = new Random(9);
        int rejected = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] damaged = payload.ToArray();
            damaged[trial < 64 ? trial : rng.Next(damaged.Length)] ^= (byte)(1 << rng.Next(8));
            rejected += CodecAssert.DecodeDamaged(FloatSplitCodec.Instance, damaged, DType.F32, data.Length) ? 0 : 1;
        }

        Assert.True(rejected > 0);
    }

    private static byte[] Encode(byte[] data, ChunkContext context)
    {
        byte[] buffer = new byte[data.Length + CodecSelector.Slack];
        int written = FloatSplitCodec.Instance.Encode(data, context, buffer);
        Assert.True(written > 0);
        return buffer[..written];
    }

    /// <summary>Gaussian 16-bit weights, each row's scale e^(u × <paramref name="spread"/>) for a uniform u in [-1, 1).</summary>
    private static byte[] GaussianRows(DType dtype, int rowLength, int rows, double spread, int seed)
    {
        var rng = new Random(seed);
        byte[] data = new byte[rowLength * rows * 2];
        for (int r = 0; r < rows; r++)
        {
            double scale = 0.02 * Math.Exp(((rng.NextDouble() * 2) - 1) * spread);
            for (int c = 0; c < rowLength; c++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                float v = (float)(g * scale);
                ushort bits = dtype == DType.F16 ? BitConverter.HalfToUInt16Bits((Half)v) : (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
                BitConverter.TryWriteBytes(data.AsSpan(2 * ((r * rowLength) + c)), bits);
            }
        }

        return data;
    }

    /// <summary>Positive F32 values like an optimizer's second moment: each row has its own scale, spread over many octaves.</summary>
    private static byte[] ScaledRows(int rowLength, int rows, int firstColumn, int seed)
    {
        var rng = new Random(seed);
        double[] scale = Enumerable.Range(0, rows + 1).Select(_ => Math.Exp(rng.NextDouble() * 12 - 6) * 1e-6).ToArray();
        int count = (rowLength * rows) - firstColumn;
        byte[] data = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            float v = (float)(g * g * scale[(i + firstColumn) / rowLength]);
            BitConverter.TryWriteBytes(data.AsSpan(4 * i), v);
        }

        return data;
    }
}
