using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Wafer.Formats.Safetensors;
using Wafer.Layout;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// The BitX-style baseline, bench only: for each tensor whose name and size match a base tensor, XOR the
/// target with the base and split the result into an exponent plane and a sign+mantissa plane, zstd-3 each.
/// Everything else (unmatched tensors, headers, other files) is zstd-3 of the target bytes.
/// </summary>
internal static class BitXStyleReference
{
    public static long Size(string baseFolder, string targetFolder)
    {
        using var compressor = new Compressor(3);
        long total = 0;
        foreach (string targetFile in Directory.EnumerateFiles(targetFolder, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(targetFolder, targetFile);
            string baseFile = Path.Combine(baseFolder, relative);
            byte[] target = File.ReadAllBytes(targetFile);
            if (!targetFile.EndsWith(".safetensors", StringComparison.Ordinal) || !File.Exists(baseFile))
            {
                total += Zstd(compressor, target);
                continue;
            }

            byte[] baseBytes = File.ReadAllBytes(baseFile);
            Dictionary<string, (TensorDescriptor Tensor, LayoutSegment Segment)> baseTensors = Tensors(baseFile).ToDictionary(t => t.Tensor.Name);
            long covered = 0;
            var rest = new List<byte>();
            foreach ((TensorDescriptor tensor, LayoutSegment segment) in Tensors(targetFile))
            {
                ReadOnlySpan<byte> t = target.AsSpan((int)segment.Offset, (int)segment.Length);
                if (baseTensors.TryGetValue(tensor.Name, out var match) && match.Segment.Length == segment.Length && FieldBits(tensor.DType) is (int width, int exponentShift, int exponentBits))
                {
                    total += Planes(compressor, t, baseBytes.AsSpan((int)match.Segment.Offset, (int)segment.Length), width, exponentShift, exponentBits);
                }
                else
                {
                    total += Zstd(compressor, t);
                }

                covered += segment.Length;
            }

            total += Zstd(compressor, target.AsSpan(0, (int)(target.Length - covered)));
        }

        return total;
    }

    private static (int Width, int ExponentShift, int ExponentBits)? FieldBits(DType dtype) => dtype switch
    {
        DType.BF16 => (2, 7, 8),
        DType.F16 => (2, 10, 5),
        DType.F32 => (4, 23, 8),
        _ => null,
    };

    private static long Planes(Compressor compressor, ReadOnlySpan<byte> target, ReadOnlySpan<byte> baseBytes, int width, int exponentShift, int exponentBits)
    {
        int count = target.Length / width;
        byte[] exponents = new byte[count];
        byte[] signMantissa = new byte[count * width];
        int smBytes = width == 2 ? (exponentBits == 8 ? 1 : 2) : 3;
        for (int i = 0; i < count; i++)
        {
            uint x = width == 2
                ? (uint)(BinaryPrimitives.ReadUInt16LittleEndian(target[(i * 2)..]) ^ BinaryPrimitives.ReadUInt16LittleEndian(baseBytes[(i * 2)..]))
                : BinaryPrimitives.ReadUInt32LittleEndian(target[(i * 4)..]) ^ BinaryPrimitives.ReadUInt32LittleEndian(baseBytes[(i * 4)..]);
            exponents[i] = (byte)((x >> exponentShift) & ((1u << exponentBits) - 1));
            uint sign = x >> ((width * 8) - 1);
            uint sm = (sign << exponentShift) | (x & ((1u << exponentShift) - 1));
            for (int b = 0; b < smBytes; b++)
            {
                signMantissa[(i * smBytes) + b] = (byte)(sm >> (8 * b));
            }
        }

        return Zstd(compressor, exponents) + Zstd(compressor, signMantissa.AsSpan(0, count * smBytes));
    }

    private static long Zstd(Compressor compressor, ReadOnlySpan<byte> data) => data.IsEmpty ? 0 : compressor.Wrap(data).Length;

    private static List<(TensorDescriptor Tensor, LayoutSegment Segment)> Tensors(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path);
        long length = RandomAccess.GetLength(handle);
        return [.. SafetensorsHeader.Read(path, handle, length).ToLayout(path).Segments.Where(s => s.Tensor is not null).Select(s => (s.Tensor!, s))];
    }
}
