using System.Runtime.Intrinsics.X86;
using CsCheck;
using Wafer.Codecs.Entropy;

namespace Wafer.Tests.Codecs.Entropy;

/// <summary>The vectorised prefix rANS encoder against its scalar reference.</summary>
[Trait("Category", "Kernels")]
public sealed unsafe class PrefixRansEncoderTests
{
    [Fact]
    public void Vector_and_scalar_prefix_encoders_write_the_same_stream_and_states()
    {
        // Random tables over 4..4096 prefixes (frequency 1 and 4096 included) and random values drawn from them.
        Gen.Int[2, 12].Select(Gen.Int[1, 40], Gen.Int).Sample((prefixBits, rounds, seed) =>
        {
            var rng = new Random(seed);
            int space = 1 << prefixBits;
            (int[] prefixes, ulong[] entries) = Tables(space, rng);
            int used = prefixes.Length;

            int shift = 16 - prefixBits;
            ushort[] values = new ushort[rounds * Rans.WideLanes];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (ushort)((prefixes[rng.Next(used)] << shift) | rng.Next(1 << shift));
            }

            (byte[] scalar, uint[] scalarStates) = Run(values, rounds, shift, space - 1, entries, vector: false);
            if (Avx2.IsSupported)
            {
                (byte[] vector, uint[] vectorStates) = Run(values, rounds, shift, space - 1, entries, vector: true);
                Assert.Equal(scalar, vector);
                Assert.Equal(scalarStates, vectorStates);
            }
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void Vector_and_scalar_prefix_encoders_agree_on_32_bit_values()
    {
        // As above with F32-like values: the prefix is a field in the middle of a 32-bit value, noise around it.
        Gen.Int[2, 12].Select(Gen.Int[1, 40], Gen.Int).Sample((prefixBits, rounds, seed) =>
        {
            var rng = new Random(seed);
            int space = 1 << prefixBits;
            (int[] prefixes, ulong[] entries) = Tables(space, rng);
            int used = prefixes.Length;

            int shift = 31 - prefixBits;
            uint[] values = new uint[rounds * Rans.WideLanes];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = ((uint)rng.Next(2) << 31) | ((uint)prefixes[rng.Next(used)] << shift) | (uint)rng.Next(1 << shift);
            }

            byte[] scalarArea = new byte[(values.Length * 2) + 256];
            byte[] vectorArea = new byte[(values.Length * 2) + 256];
            uint[] scalarStates = Enumerable.Repeat(Rans.LowerBound, Rans.WideLanes).ToArray();
            uint[] vectorStates = Enumerable.Repeat(Rans.LowerBound, Rans.WideLanes).ToArray();
            fixed (uint* v = values)
            fixed (ulong* e = entries)
            fixed (uint* xs = scalarStates)
            fixed (uint* xv = vectorStates)
            fixed (byte* sa = scalarArea)
            fixed (byte* va = vectorArea)
            {
                byte* scalarEnd = PrefixRansEncoder.EncodeRoundsScalar<Values32>((byte*)v, rounds, shift, space - 1, e, xs, sa + scalarArea.Length, sa);
                Assert.True(scalarEnd != null);
                if (Avx2.IsSupported)
                {
                    byte* vectorEnd = PrefixRansEncoder.EncodeRoundsAvx2<Values32>((byte*)v, rounds, shift, space - 1, e, xv, va + vectorArea.Length, va, 32 - Rans.ScaleBits);
                    Assert.True(vectorEnd != null);
                    Assert.Equal(scalarArea[(int)(scalarEnd - sa)..], vectorArea[(int)(vectorEnd - va)..]);
                    Assert.Equal(scalarStates, vectorStates);
                }
            }
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void Vector_and_scalar_prefix_encoders_give_up_at_the_same_area_size()
    {
        // The vector loop checks the room once per batch of rounds; it must still fail exactly when the scalar
        // reference (which checks before every round) does, and otherwise write the same bytes.
        Gen.Int[1, 40].Select(Gen.Int, Gen.Int[0, 100]).Sample((rounds, seed, fraction) =>
        {
            if (!Avx2.IsSupported)
            {
                return;
            }

            var rng = new Random(seed);
            (int[] prefixes, ulong[] entries) = Tables(1 << 8, rng);
            ushort[] values = EightBitPrefixValues(rounds * Rans.WideLanes, prefixes, rng);

            int size = ((values.Length * 2) + 80) * fraction / 100;
            AssertSameOutcome(
                Encode(values, entries, Rans.WideLanes, size, (v, e, x, end, start) => PrefixRansEncoder.EncodeRoundsScalar(v, rounds, 8, 0xFF, e, x, end, start)),
                Encode(values, entries, Rans.WideLanes, size, (v, e, x, end, start) => PrefixRansEncoder.EncodeRoundsAvx2(v, rounds, 8, 0xFF, e, x, end, start)));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void Narrow_vector_encoder_matches_the_scalar_symbol_encoder()
    {
        // Eight states, value i on state i mod 8, against RansEncodeSymbol one value at a time (float-split's scalar
        // loop), over area sizes that run out at every point: the same failures, else the same bytes and states.
        Gen.Int[1, 60].Select(Gen.Int, Gen.Int[0, 100]).Sample((rounds, seed, fraction) =>
        {
            if (!PrefixRansEncoder.HasNarrowRounds)
            {
                return;
            }

            var rng = new Random(seed);
            (int[] prefixes, ulong[] entries) = Tables(1 << 8, rng);
            ushort[] values = EightBitPrefixValues(rounds * Rans.NarrowLanes, prefixes, rng);

            int size = ((values.Length * 2) + 18) * fraction / 100;
            AssertSameOutcome(
                Encode(values, entries, Rans.NarrowLanes, size, (v, e, x, end, start) =>
                {
                    for (int i = values.Length - 1; i >= 0; i--)
                    {
                        if ((i & 7) == 7 && end - start < 18)
                        {
                            return null;
                        }

                        ulong entry = e[v[i] >> 8];
                        new RansEncodeSymbol((int)(entry & 0x1FFF), (int)((entry >> 13) & 0xFFF)).Encode(ref x[i & 7], ref end);
                    }

                    return end;
                }),
                Encode(values, entries, Rans.NarrowLanes, size, (v, e, x, end, start) => PrefixRansEncoder.EncodeNarrowRoundsAvx2(v, rounds, 8, 0xFF, e, x, end, start)));
        }, iter: 300, threads: 1);
    }

    /// <summary><paramref name="count"/> 16-bit values: a random prefix of <paramref name="prefixes"/> over 8 random low bits.</summary>
    private static ushort[] EightBitPrefixValues(int count, int[] prefixes, Random rng)
    {
        ushort[] values = new ushort[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (ushort)((prefixes[rng.Next(prefixes.Length)] << 8) | rng.Next(256));
        }

        return values;
    }

    /// <summary>Both encoders gave up (end -1), or both wrote the same stream (from end to the area's end) and states.</summary>
    private static void AssertSameOutcome((byte[] Area, int End, uint[] States) scalar, (byte[] Area, int End, uint[] States) vector)
    {
        Assert.Equal(scalar.End < 0, vector.End < 0);
        if (scalar.End >= 0)
        {
            Assert.Equal(scalar.Area[scalar.End..], vector.Area[vector.End..]);
            Assert.Equal(scalar.States, vector.States);
        }
    }

    /// <summary>An encoder of 16-bit values over an area: returns its new write position, or null when it gave up.</summary>
    private delegate byte* AreaEncoder(ushort* values, ulong* entries, uint* states, byte* end, byte* start);

    /// <summary>Runs <paramref name="encoder"/> from fresh states over an area of <paramref name="size"/> bytes: the area, the stream's start in it (-1 when it gave up), the states.</summary>
    private static (byte[] Area, int End, uint[] States) Encode(ushort[] values, ulong[] entries, int lanes, int size, AreaEncoder encoder)
    {
        byte[] area = new byte[size];
        uint[] states = Enumerable.Repeat(Rans.LowerBound, lanes).ToArray();
        fixed (ushort* v = values)
        fixed (ulong* e = entries)
        fixed (uint* x = states)
        fixed (byte* a = area)
        {
            byte* end = encoder(v, e, x, a + size, a);
            return (area, end == null ? -1 : (int)(end - a), states);
        }
    }

    private static (byte[] Stream, uint[] States) Run(ushort[] values, int rounds, int shift, int mask, ulong[] entries, bool vector)
    {
        byte[] area = new byte[(rounds * Rans.WideLanes * 2) + 256];
        uint[] states = Enumerable.Repeat(Rans.LowerBound, Rans.WideLanes).ToArray();
        fixed (ushort* v = values)
        fixed (ulong* e = entries)
        fixed (uint* x = states)
        fixed (byte* a = area)
        {
            byte* end = a + area.Length;
            byte* p = vector
                ? PrefixRansEncoder.EncodeRoundsAvx2(v, rounds, shift, mask, e, x, end, a)
                : PrefixRansEncoder.EncodeRoundsScalar(v, rounds, shift, mask, e, x, end, a);
            Assert.True(p != null);
            return (area[(int)(p - a)..], states);
        }
    }

    /// <summary>A random table over up to 256 of <paramref name="space"/> prefixes: the used prefixes, and per prefix its entry.</summary>
    private static (int[] Prefixes, ulong[] Entries) Tables(int space, Random rng)
    {
        int used = Math.Min(space, 1 + rng.Next(256));
        int[] prefixes = Enumerable.Range(0, space).OrderBy(_ => rng.Next()).Take(used).ToArray();
        int[] freqs = Split(Rans.Total, used, rng);
        ulong[] entries = new ulong[space];
        int start = 0;
        for (int a = 0; a < used; a++)
        {
            entries[prefixes[a]] = PrefixRansEncoder.Entry(freqs[a], start);
            start += freqs[a];
        }

        return (prefixes, entries);
    }

    /// <summary><paramref name="parts"/> positive integers summing to <paramref name="total"/>, some of them 1.</summary>
    private static int[] Split(int total, int parts, Random rng)
    {
        int[] result = new int[parts];
        Array.Fill(result, 1);
        for (int left = total - parts; left > 0;)
        {
            int take = Math.Min(left, 1 + rng.Next(Math.Max(1, left / 2)));
            result[rng.Next(parts)] += take;
            left -= take;
        }

        return result;
    }
}
