using System.Buffers;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Order-0 rANS coding of a byte sequence whose length both sides know (palette indices, zero bitmaps).
/// Layout: the 256-symbol frequency table (<see cref="FrequencyTable"/> form), LEB128 stream length, the stream
/// (<see cref="Rans.LanesFor"/> 32-bit little-endian states, then 16-bit words).
/// </summary>
internal static unsafe class ByteStreamCoder
{
    /// <summary>Appends the coded form of <paramref name="symbols"/> at <paramref name="pos"/>; false when it does not fit.</summary>
    public static bool TryEncode(ReadOnlySpan<byte> symbols, Span<byte> destination, ref int pos)
    {
        Span<uint> counts = stackalloc uint[256];
        counts.Clear();
        foreach (byte b in symbols)
        {
            counts[b]++;
        }

        Span<ushort> freqs = stackalloc ushort[256];
        Span<ushort> starts = stackalloc ushort[256];
        FrequencyTable.Normalize(counts, freqs);
        FrequencyTable.Starts(freqs, starts);
        if (!FrequencyTable.TryWrite(freqs, destination, ref pos))
        {
            return false;
        }

        // Code backwards into the tail of the destination, then slide the stream down behind its length.
        int lengthFieldMax = 5;
        int lanes = Rans.LanesFor(symbols.Length);
        if (pos + lengthFieldMax + (lanes * 4) > destination.Length)
        {
            return false;
        }

        Span<byte> area = destination[(pos + lengthFieldMax)..];
        int wp = area.Length;
        Span<uint> x = stackalloc uint[lanes];
        x.Fill(Rans.LowerBound);
        for (int i = symbols.Length - 1; i >= 0; i--)
        {
            byte s = symbols[i];
            if (!Rans.Encode(ref x[i & (lanes - 1)], ref wp, area, freqs[s], starts[s]))
            {
                return false;
            }
        }

        if (wp < lanes * 4)
        {
            return false;
        }

        wp -= lanes * 4;
        Rans.WriteStates(x, area[wp..]);
        int streamLength = area.Length - wp;
        VarInt.TryWrite(destination, ref pos, (ulong)streamLength);
        area[wp..].CopyTo(destination[pos..]);
        pos += streamLength;
        return true;
    }

    /// <summary>Decodes exactly <c>output.Length</c> symbols from the coded form at <paramref name="pos"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> source, ref int pos, Span<byte> output, string what)
    {
        Span<ushort> freqs = stackalloc ushort[256];
        bool used = FrequencyTable.Read(source, ref pos, freqs, what);
        if (!used && output.Length != 0)
        {
            throw new WaferDataException($"{what} table is empty but {output.Length} symbols are declared");
        }

        int streamLength = VarInt.ReadLength(source, ref pos, what);
        ReadOnlySpan<byte> stream = source.Slice(pos, streamLength);
        pos += streamLength;

        uint[] tableArray = ArrayPool<uint>.Shared.Rent(Rans.Total);
        try
        {
            Span<uint> table = tableArray.AsSpan(0, Rans.Total);
            FrequencyTable.BuildDecodeTable(freqs, table);
            Span<uint> x = stackalloc uint[Rans.LanesFor(output.Length)];
            Rans.ReadStates(stream, x);
            int p = DecodeBody(stream, table, x, output);
            Rans.CheckFinal(x, p, stream.Length);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(tableArray);
        }
    }

    private static int DecodeBody(ReadOnlySpan<byte> stream, ReadOnlySpan<uint> table, Span<uint> x, Span<byte> output)
    {
        int n = output.Length;
        int i;
        nint p = x.Length * 4;
        fixed (byte* s = stream)
        fixed (uint* t = table)
        fixed (byte* o = output)
        {
            i = InterleavedRansDecoder.Decode(x, t, s, ref p, stream.Length - InterleavedRansDecoder.Lookahead, o, n);
        }

        int q = (int)p;
        for (; i < n; i++)
        {
            output[i] = (byte)RansStep.Checked(ref x[i & (x.Length - 1)], table, stream, ref q);
        }

        return q;
    }
}
