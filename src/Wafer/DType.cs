namespace Wafer;

/// <summary>Element types Wafer understands. <see cref="Opaque"/> is any type kept as plain bytes.</summary>
public enum DType : byte
{
    /// <summary>An element type Wafer does not interpret (unknown safetensors dtype, quantised blocks, raw bytes).</summary>
    Opaque = 0,
    /// <summary>IEEE 754 binary64.</summary>
    F64,
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16.</summary>
    F16,
    /// <summary>bfloat16: the top half of a binary32.</summary>
    BF16,
    /// <summary>8-bit float, 4 exponent and 3 mantissa bits (OCP FP8 E4M3).</summary>
    F8E4M3,
    /// <summary>8-bit float, 5 exponent and 2 mantissa bits (OCP FP8 E5M2).</summary>
    F8E5M2,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    Bool,
}
