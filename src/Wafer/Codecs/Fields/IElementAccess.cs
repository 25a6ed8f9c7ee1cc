namespace Wafer.Codecs.Fields;

/// <summary>Little-endian load and store of one fixed-width element, so hot loops specialise per width.</summary>
internal unsafe interface IElementAccess
{
    /// <summary>Element width in bytes.</summary>
    static abstract int Size { get; }

    /// <summary>Element <paramref name="index"/> of <paramref name="source"/>, zero-extended.</summary>
    static abstract ulong Load(byte* source, nint index);

    /// <summary>Stores the low bits of <paramref name="value"/> as element <paramref name="index"/>.</summary>
    static abstract void Store(byte* destination, nint index, ulong value);
}
