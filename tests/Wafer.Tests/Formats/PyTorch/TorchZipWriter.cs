using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Wafer.Tests.Formats.PyTorch;

/// <summary>
/// Writes a zip archive the way torch's PyTorchStreamWriter lays it out, straight from the APPNOTE field
/// tables: STORED members whose local header carries an <c>FB</c> padding extra field so that every member's
/// data starts on a 64-byte boundary, then the central directory and the end record; optionally the Zip64
/// forms (saturated 32-bit fields, zip64 extra fields, zip64 end record and locator).
/// </summary>
public static class TorchZipWriter
{
    public static byte[] Write(IReadOnlyList<(string Name, byte[] Data)> members, bool zip64, out long[] dataOffsets)
    {
        using var file = new MemoryStream();
        dataOffsets = WriteTo(file, members, zip64, 0);
        return file.ToArray();
    }

    /// <summary>
    /// Writes the archive to <paramref name="file"/>, leaving <paramref name="gapBeforeLast"/> unwritten bytes before the
    /// last member's local header (a hole in a sparse file, to put that member past 4 GiB). Returns each member's data offset.
    /// </summary>
    public static long[] WriteTo(Stream file, IReadOnlyList<(string Name, byte[] Data)> members, bool zip64, long gapBeforeLast)
    {
        using var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        long[] dataOffsets = new long[members.Count];
        long[] headerOffsets = new long[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            (string name, byte[] data) = members[i];
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            if (i == members.Count - 1 && gapBeforeLast > 0)
            {
                writer.Flush();
                file.Seek(gapBeforeLast, SeekOrigin.Current);
            }

            headerOffsets[i] = file.Position;
            long unpadded = file.Position + 30 + nameBytes.Length + 4;
            int padding = (int)((64 - (unpadded % 64)) % 64);
            writer.Write(0x04034b50u);
            writer.Write((ushort)(zip64 ? 45 : 20)); // version needed
            writer.Write((ushort)0); // flags
            writer.Write((ushort)0); // method: STORED
            writer.Write((ushort)0); // time
            writer.Write((ushort)0x21); // date
            writer.Write(Crc32.HashToUInt32(data));
            writer.Write((uint)data.Length);
            writer.Write((uint)data.Length);
            writer.Write((ushort)nameBytes.Length);
            writer.Write((ushort)(4 + padding));
            writer.Write(nameBytes);
            writer.Write((ushort)0x4246); // "FB": torch's padding field
            writer.Write((ushort)padding);
            writer.Write(new byte[padding]);
            dataOffsets[i] = file.Position;
            writer.Write(data);
        }

        long directoryOffset = file.Position;
        for (int i = 0; i < members.Count; i++)
        {
            (string name, byte[] data) = members[i];
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            writer.Write(0x02014b50u);
            writer.Write((ushort)(zip64 ? 45 : 20)); // version made by
            writer.Write((ushort)(zip64 ? 45 : 20)); // version needed
            writer.Write((ushort)0);
            writer.Write((ushort)0);
            writer.Write((ushort)0);
            writer.Write((ushort)0x21);
            writer.Write(Crc32.HashToUInt32(data));
            writer.Write(zip64 ? uint.MaxValue : (uint)data.Length); // compressed
            writer.Write(zip64 ? uint.MaxValue : (uint)data.Length); // uncompressed
            writer.Write((ushort)nameBytes.Length);
            writer.Write((ushort)(zip64 ? 4 + 24 : 0)); // extra
            writer.Write((ushort)0); // comment
            writer.Write((ushort)0); // disk start
            writer.Write((ushort)0); // internal attributes
            writer.Write(0u); // external attributes
            writer.Write(zip64 ? uint.MaxValue : (uint)headerOffsets[i]);
            writer.Write(nameBytes);
            if (zip64)
            {
                // Zip64 extended information: uncompressed, compressed, local header offset, in that order.
                writer.Write((ushort)1);
                writer.Write((ushort)24);
                writer.Write((ulong)data.Length);
                writer.Write((ulong)data.Length);
                writer.Write((ulong)headerOffsets[i]);
            }
        }

        long directoryLength = file.Position - directoryOffset;
        if (zip64)
        {
            long recordOffset = file.Position;
            writer.Write(0x06064b50u);
            writer.Write(44UL); // size of the record after this field
            writer.Write((ushort)45);
            writer.Write((ushort)45);
            writer.Write(0u);
            writer.Write(0u);
            writer.Write((ulong)members.Count);
            writer.Write((ulong)members.Count);
            writer.Write((ulong)directoryLength);
            writer.Write((ulong)directoryOffset);
            writer.Write(0x07064b50u); // locator
            writer.Write(0u);
            writer.Write((ulong)recordOffset);
            writer.Write(1u);
        }

        writer.Write(0x06054b50u);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(zip64 ? ushort.MaxValue : (ushort)members.Count);
        writer.Write(zip64 ? ushort.MaxValue : (ushort)members.Count);
        writer.Write(zip64 ? uint.MaxValue : (uint)directoryLength);
        writer.Write(zip64 ? uint.MaxValue : (uint)directoryOffset);
        writer.Write((ushort)0);
        writer.Flush();
        return dataOffsets;
    }

    /// <summary>Little-endian bytes of consecutive values starting at <paramref name="first"/>, element size <paramref name="size"/>.</summary>
    public static byte[] Counting(int count, int size, byte first)
    {
        byte[] data = new byte[count * size];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(first + i);
        }

        return data;
    }

    internal static void WriteUInt32(byte[] file, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);
}
