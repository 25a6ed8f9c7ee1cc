using System.Buffers;
using Wafer.Archive;
using Wafer.Archive.Manifest;

namespace Wafer;

public sealed partial class WaferArchive
{
    /// <summary>Companion ranges per chunk; a patch's companions are resolved by the patch applier, against the rebuilt target.</summary>
    private Dictionary<ChunkEntry, (TensorEntry Companion, long Offset, int Length)> BuildCompanionRanges() =>
        _manifest.Kind == "archive" ? CompanionPairing.ChunkRanges(_manifest.Tensors) : new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Decodes one chunk of this archive into exactly <paramref name="destination"/>, first decoding the part of
    /// its tensor's companion that the chunk is coded against, if any. Every read path goes through here.
    /// </summary>
    internal void DecodeChunk(ChunkEntry chunk, DType dtype, Span<byte> destination, string what)
    {
        if (!_companionRanges.TryGetValue(chunk, out (TensorEntry Companion, long Offset, int Length) range))
        {
            ChunkDecoder.Decode(_file, chunk, dtype, destination, what);
            return;
        }

        byte[] reference = ArrayPool<byte>.Shared.Rent(Math.Max(1, range.Length));
        try
        {
            ReadRange(range.Companion, range.Offset, reference.AsSpan(0, range.Length));
            ChunkDecoder.Decode(_file, chunk, dtype, reference.AsSpan(0, range.Length), destination, what);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reference);
        }
    }

    /// <summary>Decodes bytes <c>[offset, offset + destination.Length)</c> of a tensor that has no companion itself.</summary>
    private void ReadRange(TensorEntry tensor, long offset, Span<byte> destination)
    {
        DType dtype = DTypes.TryParse(tensor.Dtype, out DType known) ? known : DType.Opaque;
        CompanionPairing.ReadRange(tensor.Chunks, offset, destination, i =>
        {
            ChunkEntry chunk = tensor.Chunks[i];
            byte[] whole = ArrayPool<byte>.Shared.Rent(chunk.Size);
            try
            {
                ChunkDecoder.Decode(_file, chunk, dtype, whole.AsSpan(0, chunk.Size), $"tensor '{tensor.Name}' chunk {i}");
                return whole;
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(whole);
                throw;
            }
        });
    }
}
