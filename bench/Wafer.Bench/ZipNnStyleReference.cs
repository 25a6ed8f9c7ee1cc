using System.Buffers.Binary;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// Our own implementation of ZipNN's method, as the baseline Wafer must beat: the exponent is pulled out of each
/// value into its own byte plane and Huffman-coded per 256 KiB of plane (canonical Huffman, code lengths capped at
/// 15 bits, a 256-entry 4-bit-per-length header), and each remaining byte plane (sign plus mantissa bytes) is stored
/// as it is or zstd-coded, whichever is smaller. F16 follows ZipNN's byte grouping: the high byte (sign, exponent,
/// two mantissa bits) is Huffman-coded, the low byte stored or zstd-coded. Sizes are exact payload sizes computed
/// from the Huffman code lengths; no bit stream is emitted since only its length matters here.
/// </summary>
internal static class ZipNnStyleReference
{
    private const int PlaneChunk = 256 * 1024;
    private const int HuffmanHeaderBytes = 128;

    /// <summary>Compressed size of one tensor's bytes of element type <paramref name="dtype"/>.</summary>
    public static long Size(ReadOnlySpan<byte> data, DType dtype, Compressor zstd)
    {
        int size = DTypes.Size(dtype);
        int n = data.Length / size;
        switch (dtype)
        {
            case DType.BF16:
            {
                byte[] exp = new byte[n];
                byte[] rest = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    ushort v = BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]);
                    exp[i] = (byte)(v >> 7);
                    rest[i] = (byte)(((v >> 8) & 0x80) | (v & 0x7F));
                }

                return HuffmanPlane(exp) + StoredOrZstd(rest, zstd);
            }

            case DType.F16:
            {
                byte[] hi = new byte[n];
                byte[] lo = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    lo[i] = data[2 * i];
                    hi[i] = data[(2 * i) + 1];
                }

                return HuffmanPlane(hi) + StoredOrZstd(lo, zstd);
            }

            case DType.F32:
            {
                byte[] exp = new byte[n];
                byte[] b2 = new byte[n];
                byte[] b1 = new byte[n];
                byte[] b0 = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    uint v = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 * i)..]);
                    exp[i] = (byte)(v >> 23);
                    b2[i] = (byte)(((v >> 24) & 0x80) | ((v >> 16) & 0x7F));
                    b1[i] = (byte)(v >> 8);
                    b0[i] = (byte)v;
                }

                return HuffmanPlane(exp) + StoredOrZstd(b2, zstd) + StoredOrZstd(b1, zstd) + StoredOrZstd(b0, zstd);
            }

            default:
                return StoredOrZstd(data.ToArray(), zstd);
        }
    }

    private static long StoredOrZstd(byte[] plane, Compressor zstd)
    {
        long total = 0;
        for (int s = 0; s < plane.Length; s += PlaneChunk)
        {
            int len = Math.Min(PlaneChunk, plane.Length - s);
            total += Math.Min(len, zstd.Wrap(plane.AsSpan(s, len)).Length);
        }

        return total;
    }

    private static long HuffmanPlane(byte[] plane)
    {
        long total = 0;
        Span<long> counts = stackalloc long[256];
        Span<int> lengths = stackalloc int[256];
        for (int s = 0; s < plane.Length; s += PlaneChunk)
        {
            int len = Math.Min(PlaneChunk, plane.Length - s);
            counts.Clear();
            foreach (byte b in plane.AsSpan(s, len))
            {
                counts[b]++;
            }

            HuffmanLengths(counts, lengths, 15);
            long bits = 0;
            for (int i = 0; i < 256; i++)
            {
                bits += counts[i] * lengths[i];
            }

            total += Math.Min(len, HuffmanHeaderBytes + ((bits + 7) / 8));
        }

        return total;
    }

    /// <summary>Huffman code lengths, then lengths above <paramref name="maxLength"/> repaired the way zlib does (rarely needed).</summary>
    internal static void HuffmanLengths(ReadOnlySpan<long> counts, Span<int> lengths, int maxLength)
    {
        lengths.Clear();
        var nodes = new List<(long Weight, int Left, int Right)>();
        var queue = new PriorityQueue<int, (long, int)>();
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                nodes.Add((counts[i], -1, i));
                queue.Enqueue(nodes.Count - 1, (counts[i], nodes.Count - 1));
            }
        }

        if (nodes.Count == 1)
        {
            lengths[nodes[0].Right] = 1;
            return;
        }

        while (queue.Count > 1)
        {
            int a = queue.Dequeue();
            int b = queue.Dequeue();
            nodes.Add((nodes[a].Weight + nodes[b].Weight, a, b));
            queue.Enqueue(nodes.Count - 1, (nodes[^1].Weight, nodes.Count - 1));
        }

        var stack = new Stack<(int Node, int Depth)>();
        stack.Push((nodes.Count - 1, 0));
        while (stack.Count > 0)
        {
            (int node, int depth) = stack.Pop();
            if (nodes[node].Left < 0)
            {
                lengths[nodes[node].Right] = depth;
            }
            else
            {
                stack.Push((nodes[node].Left, depth + 1));
                stack.Push((nodes[node].Right, depth + 1));
            }
        }

        // Length limiting: clamp and then lengthen the shortest codes until the Kraft sum is <= 1.
        bool clamped = false;
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] > maxLength)
            {
                lengths[i] = maxLength;
                clamped = true;
            }
        }

        if (!clamped)
        {
            return;
        }

        while (true)
        {
            double kraft = 0;
            for (int i = 0; i < lengths.Length; i++)
            {
                kraft += lengths[i] > 0 ? Math.Pow(2, -lengths[i]) : 0;
            }

            if (kraft <= 1)
            {
                return;
            }

            int longestBelowMax = -1;
            for (int i = 0; i < lengths.Length; i++)
            {
                if (lengths[i] > 0 && lengths[i] < maxLength && (longestBelowMax < 0 || lengths[i] > lengths[longestBelowMax]))
                {
                    longestBelowMax = i;
                }
            }

            lengths[longestBelowMax]++;
        }
    }
}
