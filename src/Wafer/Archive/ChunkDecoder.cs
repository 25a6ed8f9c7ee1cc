using System.Buffers;
using System.IO.Hashing;
using Wafer.Archive.Manifest;
using Wafer.Codecs;
using Wafer.IO;

namespace Wafer.Archive;

/// <summary>Decodes one stored chunk into exactly its declared size and checks its XXH3 checksum.</summary>
internal static class ChunkDecoder
{
    /// <exception cref="WaferIntegrityException">The payload is corrupt or decodes to bytes with another checksum.</exception>
    public static void Decode(MappedFile archive, ChunkEntry chunk, DType dtype, Span<byte> destination, string what) =>
        Decode(archive, chunk, dtype, default, destination, what);

    /// <summary>Decodes a chunk of a patch, with <paramref name="reference"/> the base bytes it is coded against.</summary>
    public static void Decode(MappedFile archive, ChunkEntry chunk, DType dtype, ReadOnlySpan<byte> reference, Span<byte> destination, string what)
    {
        ChunkCodec codec = CodecRegistry.Find(chunk.Codec)
            ?? throw new WaferDataException($"{archive.Path}: {what}: unknown codec '{chunk.Codec}'.");
        byte[] payload = ArrayPool<byte>.Shared.Rent(Math.Max(1, chunk.Stored));
        try
        {
            archive.Read(chunk.At, payload.AsSpan(0, chunk.Stored));
            try
            {
                codec.Decode(payload.AsSpan(0, chunk.Stored), new ChunkContext(dtype, reference), destination);
            }
            catch (WaferDataException e) when (e is not WaferIntegrityException)
            {
                throw new WaferIntegrityException($"{archive.Path}: {what}: the stored chunk is corrupt ({e.Message}).", e);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }

        if (XxHash3.HashToUInt64(destination).ToString("x16") != chunk.Xxh3)
        {
            throw new WaferIntegrityException($"{archive.Path}: {what}: checksum mismatch: the stored chunk is corrupt.");
        }
    }
}
