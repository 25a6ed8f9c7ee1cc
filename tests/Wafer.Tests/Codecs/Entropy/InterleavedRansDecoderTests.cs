using System.Runtime.Intrinsics.X86;
using CsCheck;
using Wafer.Codecs.Entropy;

namespace Wafer.Tests.Codecs.Entropy;

/// <summary>The rANS stream decoders: the AVX2 path against the scalar reference, and the coded form end to end.</summary>
[Trait("Category", "Kernels")]
public sealed unsafe class InterleavedRansDecoderTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(Rans.WideThreshold - 1)]
    [InlineData(Rans.WideThreshold)]
    [InlineData(Rans.WideThreshold + 7)]
    [InlineData(300_001)]
    public void Byte_streams_round_trip_at_every_lane_count_boundary(int count)
    {
        byte[] symbols = SkewedSymbols(count, alphabet: 200, seed: count);
        byte[] coded = Encode(symbols);
        byte[] decoded = new byte[count];
        int pos = 0;
        ByteStreamCoder.Decode(coded, ref pos, decoded, "test stream");
        Assert.Equal(coded.Length, pos);
        Assert.Equal(symbols, decoded);
    }

    [Fact]
    public void Vector_and_scalar_decoders_agree_symbol_for_symbol_and_state_for_state()
    {
        Gen.Int[8, 255].Select(Gen.Int[Rans.WideThreshold, (Rans.WideThreshold * 2) + 100], Gen.Int).Sample((alphabet, count, seed) =>
        {
            byte[] symbols = SkewedSymbols(count, alphabet, seed);
            byte[] coded = Encode(symbols);
            (byte[] scalar, uint[] scalarStates, nint scalarEnd) = DecodeBody(coded, count, vector: false);
            Assert.Equal(symbols.AsSpan(0, scalar.Length).ToArray(), scalar);
            if (Avx2.IsSupported)
            {
                (byte[] vector, uint[] vectorStates, nint vectorEnd) = DecodeBody(coded, count, vector: true);
                Assert.Equal(scalar, vector);
                Assert.Equal(scalarStates, vectorStates);
                Assert.Equal(scalarEnd, vectorEnd);
            }
        }, iter: 20, threads: 1);
    }

    [Fact]
    public void A_flipped_bit_in_a_wide_stream_is_an_error_or_different_symbols_never_a_crash()
    {
        byte[] symbols = SkewedSymbols(Rans.WideThreshold + 1000, alphabet: 60, seed: 7);
        byte[] coded = Encode(symbols);
        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] bad = (byte[])coded.Clone();
            bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
            byte[] decoded = new byte[symbols.Length];
            int pos = 0;
            try
            {
                ByteStreamCoder.Decode(bad, ref pos, decoded, "test stream");
            }
            catch (WaferDataException)
            {
                continue;
            }

            Assert.NotEqual(coded, bad);
        }
    }

    private static byte[] SkewedSymbols(int count, int alphabet, int seed)
    {
        var rng = new Random(seed);
        byte[] symbols = new byte[count];
        for (int i = 0; i < count; i++)
        {
            // Geometric-ish: small symbols common, every symbol of the alphabet possible.
            double u = rng.NextDouble();
            symbols[i] = (byte)Math.Min(alphabet - 1, (int)(-Math.Log(1 - u) * alphabet / 8));
        }

        return symbols;
    }

    private static byte[] Encode(byte[] symbols)
    {
        byte[] buffer = new byte[(symbols.Length * 2) + 2048];
        int pos = 0;
        Assert.True(ByteStreamCoder.TryEncode(symbols, buffer, ref pos));
        return buffer[..pos];
    }

    /// <summary>Runs only the unchecked body of the decoder over the stream inside <paramref name="coded"/>.</summary>
    private static (byte[] Symbols, uint[] States, nint End) DecodeBody(byte[] coded, int count, bool vector)
    {
        int pos = 0;
        ushort[] freqs = new ushort[256];
        FrequencyTable.Read(coded, ref pos, freqs, "test");
        int length = VarInt.ReadLength(coded, ref pos, "test");
        byte[] stream = coded.AsSpan(pos, length).ToArray();
        uint[] table = new uint[Rans.Total];
        FrequencyTable.BuildDecodeTable(freqs, table);
        uint[] states = new uint[Rans.LanesFor(count)];
        Rans.ReadStates(stream, states);
        byte[] output = new byte[count];
        nint p = states.Length * 4;
        int decoded;
        fixed (byte* s = stream)
        fixed (uint* t = table)
        fixed (byte* o = output)
        {
            nint safeEnd = stream.Length - InterleavedRansDecoder.Lookahead;
            decoded = vector
                ? InterleavedRansDecoder.DecodeAvx2(states, t, s, ref p, safeEnd, o, count)
                : InterleavedRansDecoder.DecodeScalar(states, t, s, ref p, safeEnd, o, count);
        }

        Assert.Equal(0, decoded % states.Length);
        Assert.True(decoded > count / 2, $"only {decoded} of {count} symbols took the fast path ({stream.Length}-byte stream)");
        return (output[..decoded], states, p);
    }
}
