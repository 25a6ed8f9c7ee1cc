namespace Wafer.Formats.PyTorch;

/// <summary>The torch storage classes Wafer recognises, keyed by class name (<c>torch.&lt;Name&gt;</c>).</summary>
internal static class TorchStorageTypes
{
    private static readonly Dictionary<string, TorchStorageType> s_byName = new TorchStorageType[]
    {
        new("FloatStorage", DType.F32, 4),
        new("DoubleStorage", DType.F64, 8),
        new("HalfStorage", DType.F16, 2),
        new("BFloat16Storage", DType.BF16, 2),
        new("LongStorage", DType.I64, 8),
        new("IntStorage", DType.I32, 4),
        new("ShortStorage", DType.I16, 2),
        new("CharStorage", DType.I8, 1),
        new("ByteStorage", DType.U8, 1),
        new("BoolStorage", DType.Bool, 1),
        new("UInt16Storage", DType.U16, 2),
        new("UInt32Storage", DType.U32, 4),
        new("UInt64Storage", DType.U64, 8),
        new("Float8_e4m3fnStorage", DType.F8E4M3, 1),
        new("Float8_e5m2Storage", DType.F8E5M2, 1),
        // Untyped storages count bytes, not elements.
        new("UntypedStorage", DType.U8, 1),
        // Known layouts that Wafer does not code as numbers: kept as opaque bytes of the right size.
        new("ComplexHalfStorage", DType.Opaque, 4),
        new("ComplexFloatStorage", DType.Opaque, 8),
        new("ComplexDoubleStorage", DType.Opaque, 16),
        new("QInt8Storage", DType.Opaque, 1),
        new("QUInt8Storage", DType.Opaque, 1),
        new("QInt32Storage", DType.Opaque, 4),
        new("QUInt4x2Storage", DType.Opaque, 1),
        new("QUInt2x4Storage", DType.Opaque, 1),
        new("Float8_e4m3fnuzStorage", DType.Opaque, 1),
        new("Float8_e5m2fnuzStorage", DType.Opaque, 1),
    }.ToDictionary(static t => t.Name, StringComparer.Ordinal);

    /// <summary>The storage class called <paramref name="name"/>, or null when Wafer does not know it.</summary>
    public static TorchStorageType? Find(string name) => s_byName.GetValueOrDefault(name);
}
