using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// The members of a zip archive read from its central directory, with every size and offset checked against
/// the file before it is used: End Of Central Directory (and the Zip64 locator and record when present),
/// central directory entries with their Zip64 extra fields, and each member's local header, so that each
/// member's data range is known, inside the file and disjoint from every other member.
/// Nothing is decompressed; only headers are read.
/// </summary>
internal sealed class ZipDirectory
{
    /// <summary>The largest central directory read into memory (about 800 000 short-named members).</summary>
    public const int MaxCentralDirectoryLength = 64 << 20;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const int EndLength = 22;
    private const int Zip64LocatorLength = 20;
    private const int Zip64EndLength = 56;
    private const int CentralHeaderLength = 46;
    private const int LocalHeaderLength = 30;
    private const int MaxCommentLength = ushort.MaxValue;

    private ZipDirectory(IReadOnlyList<ZipEntry> entries, long centralDirectoryOffset)
    {
        Entries = entries;
        CentralDirectoryOffset = centralDirectoryOffset;
    }

    /// <summary>The members in central directory order.</summary>
    public IReadOnlyList<ZipEntry> Entries { get; }

    /// <summary>Where the central directory starts; every member's data ends at or before it.</summary>
    public long CentralDirectoryOffset { get; }

    /// <summary>Reads and validates the directory of the zip file <paramref name="path"/>.</summary>
    public static ZipDirectory Read(string path, SafeFileHandle file, long length)
    {
        (long endOffset, long declaredCount, long directoryOffset, long directoryLength) = ReadEnd(path, file, length);
        if (directoryLength > MaxCentralDirectoryLength)
        {
            throw Bad(path, $"central directory of {directoryLength} bytes exceeds the {MaxCentralDirectoryLength}-byte limit");
        }

        if (directoryOffset < 0 || directoryLength < 0 || directoryOffset > endOffset - directoryLength)
        {
            throw Bad(path, $"central directory [{directoryOffset}, +{directoryLength}) does not end before the end record at {endOffset}");
        }

        // Every entry takes at least 46 bytes, so a count beyond that is a lie: refuse before allocating.
        if (declaredCount > directoryLength / CentralHeaderLength)
        {
            throw Bad(path, $"central directory declares {declaredCount} entries but its {directoryLength} bytes hold at most {directoryLength / CentralHeaderLength}");
        }

        byte[] directory = new byte[(int)directoryLength];
        ReadExactly(path, file, directory, directoryOffset, "central directory");
        var entries = new List<ZipEntry>((int)declaredCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        int position = 0;
        for (long i = 0; i < declaredCount; i++)
        {
            ZipEntry entry = ReadCentralEntry(path, file, length, directory, ref position, directoryOffset);
            if (!names.Add(entry.Name))
            {
                throw Bad(path, $"member '{entry.Name}' appears twice in the central directory");
            }

            entries.Add(entry);
        }

        if (position != directory.Length)
        {
            throw Bad(path, $"central directory has {directory.Length - position} bytes after its {declaredCount} declared entries");
        }

        // Members must be disjoint: a member's header and data end before the next member's header starts.
        var byOffset = entries.OrderBy(static e => e.LocalHeaderOffset).ToList();
        for (int i = 0; i < byOffset.Count; i++)
        {
            long limit = i + 1 < byOffset.Count ? byOffset[i + 1].LocalHeaderOffset : directoryOffset;
            if (byOffset[i].DataEnd > limit)
            {
                throw Bad(path, $"member '{byOffset[i].Name}' data [{byOffset[i].DataOffset}, {byOffset[i].DataEnd}) overlaps what follows at {limit}");
            }
        }

        return new ZipDirectory(entries, directoryOffset);
    }

    private static (long EndOffset, long Count, long DirectoryOffset, long DirectoryLength) ReadEnd(string path, SafeFileHandle file, long length)
    {
        if (length < EndLength)
        {
            throw Bad(path, $"file is {length} bytes, shorter than an end of central directory record");
        }

        // The record is the last 22 bytes plus a comment of at most 65535 bytes: search no further back.
        int tailLength = (int)Math.Min(length, EndLength + MaxCommentLength);
        long tailOffset = length - tailLength;
        byte[] tail = new byte[tailLength];
        ReadExactly(path, file, tail, tailOffset, "end of central directory");
        int found = -1;
        for (int p = tailLength - EndLength; p >= 0; p--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(p)) == EndSignature
                && BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(p + 20)) == tailLength - p - EndLength)
            {
                found = p;
                break;
            }
        }

        if (found < 0)
        {
            throw Bad(path, "no end of central directory record in the last 64 KiB");
        }

        ReadOnlySpan<byte> end = tail.AsSpan(found, EndLength);
        long endOffset = tailOffset + found;
        ushort disk = BinaryPrimitives.ReadUInt16LittleEndian(end[4..]);
        ushort directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(end[6..]);
        ushort diskCount = BinaryPrimitives.ReadUInt16LittleEndian(end[8..]);
        ushort count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        uint directoryLength = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        uint directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);

        long locatorOffset = endOffset - Zip64LocatorLength;
        if (locatorOffset >= 0 && ReadUInt32(path, file, locatorOffset) == Zip64LocatorSignature)
        {
            return ReadZip64End(path, file, locatorOffset);
        }

        if (disk != 0 || directoryDisk != 0 || diskCount != count)
        {
            throw Bad(path, $"multi-disk archives are not supported (end record at {endOffset})");
        }

        return (endOffset, count, directoryOffset, directoryLength);
    }

    private static (long EndOffset, long Count, long DirectoryOffset, long DirectoryLength) ReadZip64End(string path, SafeFileHandle file, long locatorOffset)
    {
        Span<byte> locator = stackalloc byte[Zip64LocatorLength];
        ReadExactly(path, file, locator, locatorOffset, "zip64 end locator");
        uint recordDisk = BinaryPrimitives.ReadUInt32LittleEndian(locator[4..]);
        ulong recordOffset = BinaryPrimitives.ReadUInt64LittleEndian(locator[8..]);
        uint totalDisks = BinaryPrimitives.ReadUInt32LittleEndian(locator[16..]);
        if (recordDisk != 0 || totalDisks > 1)
        {
            throw Bad(path, $"multi-disk archives are not supported (zip64 locator at {locatorOffset})");
        }

        if (locatorOffset < Zip64EndLength || recordOffset > (ulong)(locatorOffset - Zip64EndLength))
        {
            throw Bad(path, $"zip64 end record offset {recordOffset} does not leave room before the locator at {locatorOffset}");
        }

        Span<byte> record = stackalloc byte[Zip64EndLength];
        ReadExactly(path, file, record, (long)recordOffset, "zip64 end record");
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
        {
            throw Bad(path, $"no zip64 end record signature at {recordOffset}");
        }

        uint disk = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        uint directoryDisk = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
        ulong diskEntries = BinaryPrimitives.ReadUInt64LittleEndian(record[24..]);
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(record[32..]);
        ulong directoryLength = BinaryPrimitives.ReadUInt64LittleEndian(record[40..]);
        ulong directoryOffset = BinaryPrimitives.ReadUInt64LittleEndian(record[48..]);
        if (disk != 0 || directoryDisk != 0 || diskEntries != count)
        {
            throw Bad(path, $"multi-disk archives are not supported (zip64 end record at {recordOffset})");
        }

        // Values past long.MaxValue cannot be inside any file; clamp them to a value the range checks reject.
        return ((long)recordOffset, ToLong(count), ToLong(directoryOffset), ToLong(directoryLength));
    }

    private static ZipEntry ReadCentralEntry(string path, SafeFileHandle file, long length, byte[] directory, ref int position, long directoryOffset)
    {
        long at = directoryOffset + position;
        if (directory.Length - position < CentralHeaderLength)
        {
            throw Bad(path, $"central directory entry at {at} is truncated");
        }

        ReadOnlySpan<byte> header = directory.AsSpan(position, CentralHeaderLength);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralHeaderSignature)
        {
            throw Bad(path, $"no central directory entry signature at {at}");
        }

        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
        int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
        ushort startDisk = BinaryPrimitives.ReadUInt16LittleEndian(header[34..]);
        long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
        int variable = nameLength + extraLength + commentLength;
        if (directory.Length - position - CentralHeaderLength < variable)
        {
            throw Bad(path, $"central directory entry at {at} declares {variable} bytes of name, extra and comment past the directory's end");
        }

        ReadOnlySpan<byte> nameBytes = directory.AsSpan(position + CentralHeaderLength, nameLength);
        ReadOnlySpan<byte> extra = directory.AsSpan(position + CentralHeaderLength + nameLength, extraLength);
        string name = Encoding.UTF8.GetString(nameBytes);
        ApplyZip64Extra(path, name, extra, ref uncompressed, ref compressed, ref localOffset, ref startDisk);
        position += CentralHeaderLength + variable;
        if (startDisk != 0)
        {
            throw Bad(path, $"member '{name}' starts on disk {startDisk}");
        }

        if (localOffset > directoryOffset - LocalHeaderLength)
        {
            throw Bad(path, $"member '{name}' local header offset {localOffset} is not before the central directory at {directoryOffset}");
        }

        // The local header repeats the name; its own extra field length decides where the data starts.
        long dataOffset = ReadLocalHeader(path, file, name, nameBytes, localOffset);
        if (compressed > length - dataOffset)
        {
            throw Bad(path, $"member '{name}' declares {compressed} bytes at {dataOffset}, past the end of the {length}-byte file");
        }

        return new ZipEntry(name, localOffset, dataOffset, compressed, uncompressed, method, (flags & 1) != 0);
    }

    private static void ApplyZip64Extra(string path, string name, ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long localOffset, ref ushort startDisk)
    {
        bool needUncompressed = uncompressed == uint.MaxValue, needCompressed = compressed == uint.MaxValue;
        bool needOffset = localOffset == uint.MaxValue, needDisk = startDisk == ushort.MaxValue;
        while (extra.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (size > extra.Length - 4)
            {
                throw Bad(path, $"member '{name}' has an extra field of {size} bytes running past its extra data");
            }

            ReadOnlySpan<byte> field = extra.Slice(4, size);
            extra = extra[(4 + size)..];
            if (id != 1)
            {
                continue;
            }

            // Only the values whose 32-bit field is saturated appear, in this fixed order.
            if (needUncompressed)
            {
                uncompressed = ReadZip64Value(path, name, ref field);
                needUncompressed = false;
            }

            if (needCompressed)
            {
                compressed = ReadZip64Value(path, name, ref field);
                needCompressed = false;
            }

            if (needOffset)
            {
                localOffset = ReadZip64Value(path, name, ref field);
                needOffset = false;
            }

            if (needDisk && field.Length >= 4)
            {
                startDisk = BinaryPrimitives.ReadUInt32LittleEndian(field) == 0 ? (ushort)0 : ushort.MaxValue;
                needDisk = false;
            }
        }

        if (needCompressed || needOffset)
        {
            throw Bad(path, $"member '{name}' has saturated 32-bit sizes but no zip64 extra field");
        }
    }

    private static long ReadZip64Value(string path, string name, ref ReadOnlySpan<byte> field)
    {
        if (field.Length < 8)
        {
            throw Bad(path, $"member '{name}' has a truncated zip64 extra field");
        }

        long value = ToLong(BinaryPrimitives.ReadUInt64LittleEndian(field));
        field = field[8..];
        return value;
    }

    private static long ReadLocalHeader(string path, SafeFileHandle file, string name, ReadOnlySpan<byte> nameBytes, long localOffset)
    {
        Span<byte> header = stackalloc byte[LocalHeaderLength];
        ReadExactly(path, file, header, localOffset, $"local header of '{name}'");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeaderSignature)
        {
            throw Bad(path, $"no local header signature for member '{name}' at {localOffset}");
        }

        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (nameLength != nameBytes.Length)
        {
            throw Bad(path, $"local header of '{name}' at {localOffset} names a {nameLength}-byte member, the central directory a {nameBytes.Length}-byte one");
        }

        Span<byte> localName = nameLength <= 256 ? stackalloc byte[nameLength] : new byte[nameLength];
        ReadExactly(path, file, localName, localOffset + LocalHeaderLength, $"local header name of '{name}'");
        if (!localName.SequenceEqual(nameBytes))
        {
            throw Bad(path, $"local header at {localOffset} names a different member than the central directory's '{name}'");
        }

        return localOffset + LocalHeaderLength + nameLength + extraLength;
    }

    private static uint ReadUInt32(string path, SafeFileHandle file, long offset)
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadExactly(path, file, bytes, offset, "signature");
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private static long ToLong(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes at <paramref name="offset"/> or throws.</summary>
    internal static void ReadExactly(string path, SafeFileHandle file, Span<byte> destination, long offset, string what)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(file, destination[total..], offset + total);
            if (read == 0)
            {
                throw Bad(path, $"{what} at {offset} is truncated: read {total} of {destination.Length} bytes");
            }

            total += read;
        }
    }

    private static WaferDataException Bad(string path, string problem) => new($"{path}: invalid zip container: {problem}.");
}
