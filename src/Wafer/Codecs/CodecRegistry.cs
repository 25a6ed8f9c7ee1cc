using System.Collections.Frozen;
using Wafer.Delta;

namespace Wafer.Codecs;

/// <summary>Every codec a reader can meet, by its manifest name.</summary>
internal static class CodecRegistry
{
    private static readonly FrozenDictionary<string, ChunkCodec> s_codecs = new ChunkCodec[]
    {
        RawCodec.Instance,
        ZstdCodec.Instance,
        F32Bf16ResidualCodec.Instance,
        FloatSplitCodec.Instance,
        HalfAsBFloat16Codec.Instance,
        ConstantCodec.Instance,
        PaletteCodec.Instance,
        SparseCodec.Instance,
        BytePlanesCodec.Instance,
        SameAsBaseCodec.Instance,
        OrderedDeltaCodec.Instance,
        SparseDeltaCodec.Instance,
        XorFieldDeltaCodec.Instance,
        ZstdReferenceCodec.Instance,
    }.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>The codec named <paramref name="name"/>, or null when this build does not know it.</summary>
    public static ChunkCodec? Find(string name) => s_codecs.GetValueOrDefault(name);

    /// <summary>All codec names, for messages.</summary>
    public static IEnumerable<string> Names => s_codecs.Keys;
}
