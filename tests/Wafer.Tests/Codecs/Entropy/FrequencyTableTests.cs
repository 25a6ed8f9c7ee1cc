using CsCheck;
using Wafer.Codecs.Entropy;

namespace Wafer.Tests.Codecs.Entropy;

[Trait("Category", "Kernels")]
public sealed class FrequencyTableTests
{
    [Fact]
    public void Normalised_tables_sum_to_the_total_and_keep_every_seen_symbol()
    {
        Gen.Int[1, 256].Select(Gen.UInt[0, 1_000_000].Array[256], Gen.Int[0, 255]).Sample((alphabet, raw, skew) =>
        {
            uint[] counts = raw[..alphabet];
            counts[skew % alphabet] += 5_000_000;
            ushort[] freqs = new ushort[alphabet];
            FrequencyTable.Normalize(counts, freqs);
            Assert.Equal(Rans.Total, freqs.Sum(f => f));
            for (int i = 0; i < alphabet; i++)
            {
                Assert.Equal(counts[i] != 0, freqs[i] != 0);
            }

            // The serialised form reads back to the same table.
            byte[] buffer = new byte[4 * alphabet];
            int pos = 0;
            Assert.True(FrequencyTable.TryWrite(freqs, buffer, ref pos));
            ushort[] back = new ushort[alphabet];
            int read = 0;
            Assert.True(FrequencyTable.Read(buffer.AsSpan(0, pos), ref read, back, "test"));
            Assert.Equal(pos, read);
            Assert.Equal(freqs, back);
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Tables_that_do_not_sum_to_the_total_are_rejected()
    {
        byte[] bad = [100, 0, 254, 1];
        int pos = 0;
        Assert.Throws<WaferDataException>(() => FrequencyTable.Read(bad, ref pos, new ushort[256], "test"));
        byte[] runPastEnd = [0, 0x80, 0x02];
        pos = 0;
        Assert.Throws<WaferDataException>(() => FrequencyTable.Read(runPastEnd, ref pos, new ushort[256], "test"));
    }

    [Fact]
    public void Byte_streams_round_trip_at_awkward_lengths()
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 100, 4095, 4096, 4097, 70_000 })
        {
            var rng = new Random(n);
            byte[] symbols = Enumerable.Range(0, n).Select(_ => (byte)(rng.Next(4) == 0 ? rng.Next(256) : rng.Next(3))).ToArray();
            byte[] buffer = new byte[(2 * n) + 2000];
            int pos = 0;
            Assert.True(ByteStreamCoder.TryEncode(symbols, buffer, ref pos));
            byte[] back = new byte[n];
            int read = 0;
            ByteStreamCoder.Decode(buffer.AsSpan(0, pos), ref read, back, "test");
            Assert.Equal(pos, read);
            Assert.Equal(symbols, back);
        }
    }
}
