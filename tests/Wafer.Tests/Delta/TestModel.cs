using System.Buffers.Binary;
using Wafer.Formats.Safetensors;
using Wafer.Layout;

namespace Wafer.Tests.Delta;

/// <summary>Writes small safetensors model folders with weights that look trained, and fine-tuned copies of them.</summary>
internal static class TestModel
{
    public sealed record Tensor(string Name, string DType, long[] Shape, byte[] Data);

    public static void WriteSafetensors(string path, IReadOnlyList<Tensor> tensors)
    {
        var descriptors = tensors.Select(t => new TensorDescriptor(t.Name, t.DType, DTypes.TryParse(t.DType, out DType d) ? d : DType.Opaque, t.Shape)).ToList();
        byte[] header = SafetensorsHeader.Build(descriptors, [.. tensors.Select(t => (long)t.Data.Length)], null);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        stream.Write(header);
        foreach (Tensor tensor in tensors)
        {
            stream.Write(tensor.Data);
        }
    }

    /// <summary>BF16 weights ~ N(0, scale) (Box-Muller), deterministic for the seed.</summary>
    public static byte[] Bf16(Random random, int count, double scale)
    {
        byte[] data = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), ToBf16((float)(Gaussian(random) * scale)));
        }

        return data;
    }

    public static byte[] F32(Random random, int count, double scale)
    {
        byte[] data = new byte[count * 4];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), (float)(Gaussian(random) * scale));
        }

        return data;
    }

    /// <summary>A fine-tuned copy: each weight moved by ~N(0, step) in value, some left alone.</summary>
    public static byte[] FineTuneBf16(Random random, byte[] data, double step)
    {
        byte[] result = (byte[])data.Clone();
        for (int i = 0; i < data.Length / 2; i++)
        {
            if (random.Next(4) == 0)
            {
                continue;
            }

            float value = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(i * 2)) << 16);
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(i * 2), ToBf16(value + (float)(Gaussian(random) * step)));
        }

        return result;
    }

    public static byte[] FineTuneF32(Random random, byte[] data, double step)
    {
        byte[] result = (byte[])data.Clone();
        for (int i = 0; i < data.Length / 4; i++)
        {
            float value = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(i * 4));
            BinaryPrimitives.WriteSingleLittleEndian(result.AsSpan(i * 4), value + (float)(Gaussian(random) * step));
        }

        return result;
    }

    public static void AssertSameTree(string expected, string actual)
    {
        string[] Files(string root) => [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
        string[] want = Files(expected);
        Assert.Equal(want, Files(actual));
        foreach (string file in want)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(expected, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file))), $"{file} differs");
        }
    }

    private static ushort ToBf16(float value) => (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16);

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
