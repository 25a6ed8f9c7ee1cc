using BenchmarkDotNet.Attributes;
using Wafer.Codecs;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// Decoding one 786 KiB chunk of BF16 Gaussian weights (σ = 0.02, like a trained projection): float-split's rANS
/// decoder against zstd-3 on the same bytes (the baseline).
/// <c>dotnet run -c Release --project bench/Wafer.Bench -- --filter *EntropyDecode*</c>
/// </summary>
[MemoryDiagnoser]
public class EntropyDecodeBenchmark : IDisposable
{
    private const int Values = 393_216;

    private readonly byte[] _output = new byte[Values * 2];
    private byte[] _floatSplit = [];
    private byte[] _zstd = [];
    private readonly Decompressor _decompressor = new();

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        byte[] data = new byte[Values * 2];
        for (int i = 0; i < Values; i++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) * 0.02;
            ushort bits = (ushort)(BitConverter.SingleToUInt32Bits((float)g) >> 16);
            data[2 * i] = (byte)bits;
            data[(2 * i) + 1] = (byte)(bits >> 8);
        }

        byte[] buffer = new byte[data.Length + CodecSelector.Slack];
        int length = FloatSplitCodec.Instance.Encode(data, new ChunkContext(DType.BF16), buffer);
        _floatSplit = buffer.AsSpan(0, length).ToArray();
        _zstd = new Compressor(3).Wrap(data).ToArray();
    }

    public void Dispose()
    {
        _decompressor.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public int Zstd3() => _decompressor.Unwrap(_zstd, _output, 0);

    [Benchmark]
    public void FloatSplit() => FloatSplitCodec.Instance.Decode(_floatSplit, new ChunkContext(DType.BF16), _output);
}
