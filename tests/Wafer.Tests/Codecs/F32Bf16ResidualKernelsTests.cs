using System.Buffers.Binary;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>
/// The f32-bf16-residual codec's vector split and join against their scalar references; the CI runs this class again
/// with hardware intrinsics off.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class F32Bf16ResidualKernelsTests
{
    private const int HeaderLength = 8;

    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int count in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 4097 })
        {
            // Every exception rate: none, a few (under the cap of one in 32), and more than the cap.
            foreach (int oddsInThousand in new[] { 0, 20, 200 })
            {
                data.Add(count, oddsInThousand);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_vector_splits_write_what_the_scalar_reference_writes(int count, int oddsInThousand)
    {
        (byte[] master, byte[] rounded) = Checkpoint(count, oddsInThousand, seed: count + oddsInThousand);
        byte[] expected = new byte[HeaderLength + (6 * count) + 64];
        var reference = new F32Bf16ResidualCodec.ExceptionList(count / 32, HeaderLength + (2 * count));
        bool expectedCoded = F32Bf16ResidualCodec.SplitScalar(master, rounded, expected, 0, count, ref reference);

        foreach ((string name, Func<byte[], (bool Coded, F32Bf16ResidualCodec.ExceptionList List)> split) in Splits(master, rounded, count))
        {
            byte[] actual = new byte[expected.Length];
            (bool coded, F32Bf16ResidualCodec.ExceptionList list) = split(actual);
            Assert.True(coded == expectedCoded, $"{name}: coded {coded}, the scalar reference {expectedCoded}");
            if (coded)
            {
                Assert.Equal(reference.Count, list.Count);
                Assert.Equal(reference.Position, list.Position);
                Assert.True(expected.AsSpan(0, reference.Position).SequenceEqual(actual.AsSpan(0, list.Position)), $"{name}: payload differs");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_vector_joins_rebuild_what_the_scalar_reference_rebuilds(int count, int oddsInThousand)
    {
        (byte[] master, byte[] rounded) = Checkpoint(count, oddsInThousand, seed: (7 * count) + oddsInThousand);
        byte[] lows = new byte[2 * count];
        for (int i = 0; i < count; i++)
        {
            master.AsSpan(4 * i, 2).CopyTo(lows.AsSpan(2 * i));
        }

        byte[] expected = new byte[4 * count];
        F32Bf16ResidualCodec.JoinScalar(lows, rounded, expected, 0);
        byte[] actual = new byte[4 * count];
        F32Bf16ResidualCodec.JoinVector128(lows, rounded, actual);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Chunks_round_trip_or_are_declined(int count, int oddsInThousand)
    {
        (byte[] master, byte[] rounded) = Checkpoint(count, oddsInThousand, seed: (13 * count) + oddsInThousand);
        byte[] payload = new byte[HeaderLength + (6 * count) + 64];
        int length = F32Bf16ResidualCodec.Instance.Encode(master, new ChunkContext(DType.F32, rounded), payload);
        int mismatches = Enumerable.Range(0, count).Count(i => F32Bf16ResidualCodec.Predict(BinaryPrimitives.ReadUInt16LittleEndian(rounded.AsSpan(2 * i)), BinaryPrimitives.ReadUInt16LittleEndian(master.AsSpan(4 * i))) != BinaryPrimitives.ReadUInt16LittleEndian(master.AsSpan((4 * i) + 2)));
        if (mismatches > count / 32)
        {
            Assert.Equal(-1, length);
            return;
        }

        Assert.Equal(HeaderLength + (2 * count) + (6 * mismatches), length);
        byte[] decoded = new byte[4 * count];
        F32Bf16ResidualCodec.Instance.Decode(payload.AsSpan(0, length), new ChunkContext(DType.F32, rounded), decoded);
        Assert.Equal(master, decoded);
    }

    private static IEnumerable<(string Name, Func<byte[], (bool, F32Bf16ResidualCodec.ExceptionList)> Split)> Splits(byte[] master, byte[] rounded, int count)
    {
        yield return ("Vector128", destination =>
        {
            var list = new F32Bf16ResidualCodec.ExceptionList(count / 32, HeaderLength + (2 * count));
            return (F32Bf16ResidualCodec.SplitVector128(master, rounded, destination, ref list), list);
        });
    }

    /// <summary>
    /// F32 master weights and their BF16 model weights rounded to nearest-even, with low halves at and around one half
    /// (ties, carries into the exponent) and, at the given odds, a top half that breaks the rule (truncation, a NaN).
    /// </summary>
    private static (byte[] Master, byte[] Rounded) Checkpoint(int count, int oddsInThousand, int seed)
    {
        var rng = new Random(seed);
        byte[] master = new byte[4 * count];
        byte[] rounded = new byte[2 * count];
        ushort[] edgeLows = [0x0000, 0x7FFF, 0x8000, 0x8001, 0xFFFF];
        for (int i = 0; i < count; i++)
        {
            uint value = BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() - 0.5) * 0.1f);
            if (rng.Next(4) == 0)
            {
                value = (value & 0xFFFF0000u) | edgeLows[rng.Next(edgeLows.Length)];
            }

            ushort bf16 = (ushort)((value + 0x7FFFu + ((value >> 16) & 1)) >> 16);
            if (rng.Next(1000) < oddsInThousand)
            {
                bf16 = rng.Next(2) == 0 ? (ushort)(value >> 16) : (ushort)0x7FC1;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(master.AsSpan(4 * i), value);
            BinaryPrimitives.WriteUInt16LittleEndian(rounded.AsSpan(2 * i), bf16);
        }

        return (master, rounded);
    }
}
