using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Wafer.Codecs.Kernels;
using Wafer.Tests.Delta;

namespace Wafer.Tests.Codecs;

/// <summary>
/// F16 ↔ BF16 conversions and the BF16-value scan against their scalar references, at every vector width this machine
/// accelerates; the CI runs this class again with hardware intrinsics off and with AVX-512 off.
/// </summary>
[Trait("Category", "Kernels")]
public sealed class HalfBFloat16Tests
{
    /// <summary>
    /// Every one of the 65,536 patterns: F16 → BF16 and BF16 → F16 give what their scalar references give (the rules
    /// of base conversion, through F32) at each width, the exact conversion refuses exactly the F16 values that are not
    /// BF16 values, the scans find them in every lane, and those that are come back exactly from their BF16.
    /// </summary>
    [Fact]
    public void Half_and_bf16_convert_and_scan_like_their_scalar_references_on_every_pattern()
    {
        byte[] patterns = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(patterns.AsSpan(2 * i), (ushort)i);
        }

        byte[] toBf16Scalar = new byte[patterns.Length], toHalfScalar = new byte[patterns.Length];
        HalfBFloat16.ToBFloat16Scalar(patterns, toBf16Scalar, exactOnly: false);
        HalfBFloat16.RoundToHalfScalar(patterns, toHalfScalar);
        foreach (int width in Widths())
        {
            byte[] toBf16 = new byte[patterns.Length], toHalf = new byte[patterns.Length];
            Assert.True(HalfBFloat16.ToBFloat16(patterns, toBf16, exactOnly: false, width));
            Assert.Equal(toBf16Scalar, toBf16);
            HalfBFloat16.RoundToHalf(patterns, toHalf, width);
            Assert.Equal(toHalfScalar, toHalf);
        }

        byte[] back = new byte[patterns.Length];
        HalfBFloat16.RoundToHalf(toBf16Scalar, back);

        int bf16Values = 0;
        ushort[] block = new ushort[16];
        byte[] narrow = new byte[block.Length * 2];
        for (int i = 0; i < 65536; i++)
        {
            var half = (ushort)i;
            bool isBf16 = HalfBFloat16.IsBFloat16(half);
            bf16Values += isBf16 ? 1 : 0;
            if (isBf16)
            {
                Assert.Equal(half, BinaryPrimitives.ReadUInt16LittleEndian(back.AsSpan(2 * i)));
            }

            // The value in one lane (which, by its low bits), 1.0 in the others.
            Array.Fill(block, (ushort)0x3C00);
            block[i % 16] = half;
            byte[] bytes = MemoryMarshal.AsBytes(block.AsSpan()).ToArray();
            Assert.Equal(isBf16, HalfBFloat16.AllBFloat16Scalar(bytes));
            Assert.Equal(isBf16, HalfBFloat16.AllBFloat16(bytes));
            if (Vector256.IsHardwareAccelerated)
            {
                Assert.Equal(isBf16, HalfBFloat16.AllBFloat16Vector256(block));
            }

            if (Vector128.IsHardwareAccelerated)
            {
                Assert.Equal(isBf16, HalfBFloat16.AllBFloat16Vector128(block));
            }

            foreach (int width in Widths())
            {
                Assert.Equal(isBf16, HalfBFloat16.ToBFloat16(bytes, narrow, exactOnly: true, width));
            }
        }

        // Per sign: 30 × 128 normal, 128 infinity and quiet NaN, 1 zero and 1,020 subnormal patterns (every m < 256,
        // even m from 256 to 510, multiples of 4 from 512).
        Assert.Equal(2 * ((30 * 128) + 65 + 1 + 255 + 128 + 128), bf16Values);
    }

    [Theory]
    [MemberData(nameof(DeltaKernelTests.Counts), MemberType = typeof(DeltaKernelTests))]
    public void Half_and_bf16_convert_and_scan_like_their_scalar_references_at_every_size(int count)
    {
        var random = new Random(count);
        byte[] halves = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            ushort half;
            do
            {
                half = (ushort)random.Next(65536);
            }
            while (!HalfBFloat16.IsBFloat16(half));
            BinaryPrimitives.WriteUInt16LittleEndian(halves.AsSpan(2 * i), half);
        }

        byte[] bf16Scalar = new byte[count * 2], backScalar = new byte[count * 2];
        Assert.True(HalfBFloat16.ToBFloat16Scalar(halves, bf16Scalar, exactOnly: true));
        HalfBFloat16.RoundToHalfScalar(bf16Scalar, backScalar);
        Assert.Equal(halves, backScalar);
        foreach (int width in Widths())
        {
            byte[] bf16 = new byte[count * 2], back = new byte[count * 2];
            Assert.True(HalfBFloat16.ToBFloat16(halves, bf16, exactOnly: true, width));
            Assert.Equal(bf16Scalar, bf16);
            HalfBFloat16.RoundToHalf(bf16, back, width);
            Assert.Equal(halves, back);
        }

        Assert.True(HalfBFloat16.AllBFloat16(halves));
        Assert.True(HalfBFloat16.TryToBFloat16(halves, new byte[count * 2]));

        // One value outside BF16 anywhere, the last element's included, is seen by every path.
        for (int i = 0; i < count; i += 1 + (count / 7))
        {
            foreach (int at in new[] { i, count - 1 })
            {
                byte[] live = (byte[])halves.Clone();
                BinaryPrimitives.WriteUInt16LittleEndian(live.AsSpan(2 * at), (ushort)(0x3C01 + (at % 3)));
                Assert.False(HalfBFloat16.AllBFloat16(live));
                Assert.False(HalfBFloat16.AllBFloat16Scalar(live));
                if (count >= 16 && Vector256.IsHardwareAccelerated)
                {
                    Assert.False(HalfBFloat16.AllBFloat16Vector256(MemoryMarshal.Cast<byte, ushort>(live)));
                }

                if (count >= 8 && Vector128.IsHardwareAccelerated)
                {
                    Assert.False(HalfBFloat16.AllBFloat16Vector128(MemoryMarshal.Cast<byte, ushort>(live)));
                }

                foreach (int width in Widths())
                {
                    Assert.False(HalfBFloat16.ToBFloat16(live, new byte[count * 2], exactOnly: true, width));
                }
            }
        }
    }

    /// <summary>
    /// The fix-up of special lanes stays inside the span at every tier of the JIT: the span's last vector holds a
    /// subnormal and the bytes after each destination must stay untouched, over enough calls for the runtime to promote
    /// the kernels.
    /// </summary>
    [Fact]
    public void Kernels_stay_inside_their_spans_once_optimised()
    {
        const int Count = 64;
        ushort[] values = new ushort[Count];
        for (int i = 0; i < Count; i++)
        {
            values[i] = (ushort)(0x3C00 + (i << 3));
        }

        values[Count - 2] = 0x0040;
        byte[] halves = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        byte[] bf16 = new byte[Count * 2];
        HalfBFloat16.ToBFloat16Scalar(halves, bf16, exactOnly: false);
        for (int call = 0; call < 2000; call++)
        {
            foreach (int width in Widths())
            {
                byte[] narrow = new byte[(Count + 16) * 2];
                narrow.AsSpan(Count * 2).Fill(0xA5);
                Assert.True(HalfBFloat16.ToBFloat16(halves, narrow, exactOnly: true, width));
                Assert.True(narrow.AsSpan(Count * 2).IndexOfAnyExcept((byte)0xA5) < 0);
                Assert.Equal(bf16, narrow.AsSpan(0, Count * 2).ToArray());
                byte[] back = new byte[(Count + 16) * 2];
                back.AsSpan(Count * 2).Fill(0xA5);
                HalfBFloat16.RoundToHalf(bf16, back, width);
                Assert.True(back.AsSpan(Count * 2).IndexOfAnyExcept((byte)0xA5) < 0);
                Assert.Equal(halves, back.AsSpan(0, Count * 2).ToArray());
            }
        }
    }

    private static IEnumerable<int> Widths() => DeltaKernelTests.Widths();
}
