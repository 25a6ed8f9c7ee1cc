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

    [Theory]
    [InlineData(Rans.NarrowLanes)]
    [InlineData(Rans.WideLanes)]
    public void Streams_with_a_table_per_symbol_decode_alike_on_both_paths(int lanes)
    {
        Gen.Select(Gen.Int[1, 8], Gen.Int[2000, 6000], Gen.Int).Sample((tables, count, seed) =>
        {
            // Each table skews toward other symbols; runs of one context, as rows of one class give.
            var rng = new Random(seed);
            byte[] contexts = new byte[count];
            for (int i = 0; i < count; i++)
            {
                contexts[i] = i > 0 && rng.Next(8) != 0 ? contexts[i - 1] : (byte)rng.Next(tables);
            }

            byte[] symbols = SkewedSymbols(count, alphabet: 40, seed);
            for (int i = 0; i < count; i++)
            {
                symbols[i] = (byte)((symbols[i] + (contexts[i] * 7)) % 40);
            }

            (byte[] stream, uint[] table) = EncodeWithContexts(symbols, contexts, tables, lanes);
            (byte[] scalar, uint[] scalarStates, nint scalarEnd) = DecodeContextsBody(stream, table, contexts, lanes, vector: false);
            Assert.Equal(symbols.AsSpan(0, scalar.Length).ToArray(), scalar);
            if (Avx2.IsSupported && lanes == Rans.WideLanes)
            {
                (byte[] vector, uint[] vectorStates, nint vectorEnd) = DecodeContextsBody(stream, table, contexts, lanes, vector: true);
                Assert.Equal(scalar, vector);
                Assert.Equal(scalarStates, vectorStates);
                Assert.Equal(scalarEnd, vectorEnd);
            }
        }, iter: 40, threads: 1);
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

    /// <summary>An interleaved stream (states, then words) coding symbol i with table <c>contexts[i]</c>, and the decoder's tables side by side.</summary>
    private static (byte[] Stream, uint[] Tables) EncodeWithContexts(byte[] symbols, byte[] contexts, int tables, int lanes)
    {
        var freqs = new ushort[tables][];
        var starts = new ushort[tables][];
        uint[] decode = new uint[tables * Rans.Total];
        for (int c = 0; c < tables; c++)
        {
            uint[] counts = new uint[256];
            for (int i = 0; i < symbols.Length; i++)
            {
                counts[symbols[i]] += contexts[i] == c ? 4u : 0u;
            }

            // Every symbol keeps a count in every table, so any symbol can be coded in any context.
            for (int a = 0; a < 40; a++)
            {
                counts[a]++;
            }

            freqs[c] = new ushort[256];
            starts[c] = new ushort[256];
            FrequencyTable.Normalize(counts, freqs[c]);
            FrequencyTable.Starts(freqs[c], starts[c]);
            FrequencyTable.BuildDecodeTable(freqs[c], decode.AsSpan(c * Rans.Total, Rans.Total));
        }

        byte[] area = new byte[(symbols.Length * 2) + (lanes * 4) + 64];
        int wp = area.Length;
        uint[] x = new uint[lanes];
        Array.Fill(x, Rans.LowerBound);
        for (int i = symbols.Length - 1; i >= 0; i--)
        {
            byte a = symbols[i];
            Assert.True(Rans.Encode(ref x[i & (lanes - 1)], ref wp, area, freqs[contexts[i]][a], starts[contexts[i]][a]));
        }

        wp -= lanes * 4;
        Rans.WriteStates(x, area.AsSpan(wp));
        return (area[wp..], decode);
    }

    /// <summary>Runs only the unchecked body of <see cref="InterleavedRansDecoder.DecodeContexts"/>' paths over <paramref name="stream"/>.</summary>
    private static (byte[] Symbols, uint[] States, nint End) DecodeContextsBody(byte[] stream, uint[] tables, byte[] contexts, int lanes, bool vector)
    {
        uint[] states = new uint[lanes];
        Rans.ReadStates(stream, states);
        byte[] output = new byte[contexts.Length];
        nint p = states.Length * 4;
        int decoded;
        fixed (byte* s = stream)
        fixed (uint* t = tables)
        fixed (byte* c = contexts)
        fixed (byte* o = output)
        {
            nint safeEnd = stream.Length - InterleavedRansDecoder.Lookahead;
            decoded = vector
                ? InterleavedRansDecoder.DecodeContextsAvx2(states, t, c, s, ref p, safeEnd, o, contexts.Length)
                : InterleavedRansDecoder.DecodeContextsScalar(states, t, c, s, ref p, safeEnd, o, contexts.Length);
        }

        Assert.Equal(0, decoded % lanes);
        Assert.True(decoded > contexts.Length / 2, $"only {decoded} of {contexts.Length} symbols took the fast path ({stream.Length}-byte stream)");
        return (output[..decoded], states, p);
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
