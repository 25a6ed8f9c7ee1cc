using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>The invariants every codec keeps, checked on one input.</summary>
internal static class CodecAssert
{
    private const byte Sentinel = 0xA5;

    /// <summary>
    /// Encodes <paramref name="data"/>; when the codec takes it, checks the payload decodes to the same bytes without
    /// touching the bytes after the destination, that encoding is deterministic and that a destination one byte
    /// short fails cleanly. Returns the payload, or null when the codec declined.
    /// </summary>
    public static byte[]? RoundTrip(ChunkCodec codec, byte[] data, DType dtype)
    {
        byte[] buffer = new byte[data.Length + 1100];
        int written = codec.Encode(data, new ChunkContext(dtype), buffer);
        if (written < 0)
        {
            return null;
        }

        byte[] payload = buffer.AsSpan(0, written).ToArray();
        byte[] again = new byte[data.Length + 1100];
        int written2 = codec.Encode(data, new ChunkContext(dtype), again);
        Assert.Equal(payload, again.AsSpan(0, written2).ToArray());

        byte[] output = DecodeGuarded(codec, payload, dtype, data.Length);
        Assert.True(output.AsSpan().SequenceEqual(data), $"{codec.Name} {DTypes.Name(dtype)}: {data.Length} bytes did not round-trip");

        if (data.Length > 0 && codec is not ConstantCodec)
        {
            Assert.Throws<WaferDataException>(() => codec.Decode(payload, new ChunkContext(dtype), new byte[data.Length - 1]));
        }

        return payload;
    }

    /// <summary>Decodes into the front of a larger buffer and checks nothing was written past <paramref name="length"/>.</summary>
    public static byte[] DecodeGuarded(ChunkCodec codec, byte[] payload, DType dtype, int length)
    {
        byte[] big = new byte[length + 64];
        big.AsSpan().Fill(Sentinel);
        try
        {
            codec.Decode(payload, new ChunkContext(dtype), big.AsSpan(0, length));
        }
        finally
        {
            Assert.True(big.AsSpan(length).IndexOfAnyExcept(Sentinel) < 0, $"{codec.Name} wrote past the end of its destination");
        }

        return big.AsSpan(0, length).ToArray();
    }

    /// <summary>A damaged payload either decodes (to anything) or throws <see cref="WaferDataException"/>; never another exception, never past the end.</summary>
    public static bool DecodeDamaged(ChunkCodec codec, byte[] payload, DType dtype, int length)
    {
        try
        {
            DecodeGuarded(codec, payload, dtype, length);
            return true;
        }
        catch (WaferDataException)
        {
            return false;
        }
    }
}
