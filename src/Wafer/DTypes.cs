using System.Diagnostics.CodeAnalysis;

namespace Wafer;

/// <summary>Names and sizes of <see cref="DType"/> values, as the safetensors specification spells them.</summary>
public static class DTypes
{
    private static readonly string[] s_names =
    [
        "OPAQUE", "F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2",
        "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL",
    ];

    private static readonly byte[] s_sizes = [1, 8, 4, 2, 2, 1, 1, 8, 4, 2, 1, 8, 4, 2, 1, 1];

    /// <summary>The safetensors name of <paramref name="type"/> (e.g. <c>BF16</c>, <c>F8_E4M3</c>).</summary>
    public static string Name(DType type) => s_names[(int)type];

    /// <summary>Bytes per element; 1 for <see cref="DType.Opaque"/>.</summary>
    public static int Size(DType type) => s_sizes[(int)type];

    /// <summary>True for the IEEE-like float types that have exponent and mantissa fields.</summary>
    public static bool IsFloat(DType type) => type is DType.F64 or DType.F32 or DType.F16 or DType.BF16 or DType.F8E4M3 or DType.F8E5M2;

    /// <summary>Parses a safetensors dtype name; false for names Wafer does not know.</summary>
    public static bool TryParse(string name, out DType type)
    {
        int index = Array.IndexOf(s_names, name);
        if (index > 0)
        {
            type = (DType)index;
            return true;
        }

        type = DType.Opaque;
        return false;
    }

    /// <summary>Parses a safetensors dtype name; throws for names Wafer does not know.</summary>
    public static DType Parse(string name) =>
        TryParse(name, out DType type) ? type : throw new ArgumentException($"Unknown dtype '{name}'.", nameof(name));

    internal static bool IsKnownName([NotNullWhen(true)] string? name) => name is not null && Array.IndexOf(s_names, name) > 0;
}
