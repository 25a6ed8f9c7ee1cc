using System.Buffers.Binary;
using System.Security.Cryptography;
using Wafer.Codecs;

namespace Wafer.Tests.Codecs;

/// <summary>
/// Known answers for float-split payloads of narrow (8-state) and wide (32-state) streams. CI runs this class with
/// and without hardware intrinsics, so the vector encoders and the scalar loops must all write these exact bytes.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class FloatSplitKnownAnswerTests
{
    [Theory]
    [InlineData(DType.BF16, 16_387, "572f8e5ad012572fe103584a4dc0a014fb7b5cff5d69b498a0cb5dfdafac7e61")]
    [InlineData(DType.BF16, 70_001, "c0432ad4e22bb9b7a0d506bbaeae9b1070cef4eaeb90585b2610f07684457553")]
    [InlineData(DType.F16, 20_000, "50136cdd51b155f606fcd53aeec3445befb5a06e48761453c9ea5d31952d6121")]
    [InlineData(DType.F32, 16_387, "394e08e6f849894ff0fd45f23eab2e81e979825832607874d851e5727c6858f0")]
    [InlineData(DType.F32, 70_001, "29dcec4e69062fe430ec903f0ed62a5d597349ae5588f4320dfc7ebcd974c3c0")]
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

    /// <summary>Bell-shaped weights of scale 0.02 from integer draws and exact float arithmetic, the same on every machine.</summary>
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
