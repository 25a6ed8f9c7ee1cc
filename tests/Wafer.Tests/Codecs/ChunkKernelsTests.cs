using Wafer.Codecs.Kernels;

namespace Wafer.Tests.Codecs;

/// <summary>The vector paths against the scalar reference; the CI runs this class again with hardware intrinsics off.</summary>
[Trait("Category", "Kernels")]
public sealed class ChunkKernelsTests
{
    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int size in new[] { 1, 2, 4, 8 })
        {
            foreach (int count in new[] { 0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 4097 })
            {
                data.Add(size, count);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Constant_detection_agrees_with_the_scalar_reference(int size, int count)
    {
        byte[] data = new byte[size * count];
        var rng = new Random((size * 1000) + count);
        byte[] element = new byte[size];
        rng.NextBytes(element);
        for (int i = 0; i < count; i++)
        {
            element.CopyTo(data, i * size);
        }

        Check(data, size, expected: true);

        // One differing byte anywhere (first, last, middle) must be found by every path.
        foreach (int at in new[] { 0, data.Length - 1, data.Length / 2 })
        {
            if (count < 2 || at < 0)
            {
                continue;
            }

            byte[] changed = data.ToArray();
            changed[at] ^= 0x10;
            Check(changed, size, expected: false);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Zero_counting_agrees_with_the_scalar_reference(int size, int count)
    {
        byte[] data = new byte[size * count];
        var rng = new Random((size * 7) + count);
        for (int i = 0; i < count; i++)
        {
            if (rng.Next(3) != 0)
            {
                // A single non-zero byte in a random position of the element.
                data[(i * size) + rng.Next(size)] = (byte)(1 + rng.Next(255));
            }
        }

        int expected = ChunkKernels.CountZeroElementsScalar(data, size);
        Assert.Equal(expected, ChunkKernels.CountZeroElementsVector128(data, size));
        Assert.Equal(expected, ChunkKernels.CountZeroElementsVector256(data, size));
        Assert.Equal(expected, ChunkKernels.CountZeroElements(data, size));
        Assert.Equal(Enumerable.Range(0, count).Count(i => data.AsSpan(i * size, size).IndexOfAnyExcept((byte)0) < 0), expected);
    }

    private static void Check(byte[] data, int size, bool expected)
    {
        Assert.Equal(expected, ChunkKernels.IsConstantScalar(data, size));
        if (data.Length >= 16)
        {
            Assert.Equal(expected, ChunkKernels.IsConstantVector128(data, size));
        }

        if (data.Length >= 32)
        {
            Assert.Equal(expected, ChunkKernels.IsConstantVector256(data, size));
        }

        Assert.Equal(expected, ChunkKernels.IsConstant(data, size));
    }
}
