using System.Runtime.Intrinsics;

namespace Wafer.Codecs.Entropy;

/// <summary>How <see cref="PrefixRansEncoder"/> reads its little-endian values: one, or eight widened to 32 bits.</summary>
internal unsafe interface IRoundValues
{
    static abstract uint Load(byte* values, int index);

    static abstract Vector256<uint> Load8(byte* values, int index);
}
