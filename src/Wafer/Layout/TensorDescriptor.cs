namespace Wafer.Layout;

/// <summary>A tensor found inside a source file: its name, element type and shape as the file declares them.</summary>
/// <param name="Name">The tensor's name in its file (e.g. <c>model.layers.0.mlp.up_proj.weight</c>).</param>
/// <param name="DTypeName">The element type as the file spells it; kept verbatim for types Wafer does not know.</param>
/// <param name="DType">The element type Wafer codes it as; <see cref="DType.Opaque"/> for unknown or quantised types.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
public sealed record TensorDescriptor(string Name, string DTypeName, DType DType, long[] Shape);
