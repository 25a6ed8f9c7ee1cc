namespace Wafer.Layout;

/// <summary>A tensor found inside a source file: its name, element type and shape as the file declares them.</summary>
/// <param name="Name">The tensor's name in its file (e.g. <c>model.layers.0.mlp.up_proj.weight</c>).</param>
/// <param name="DTypeName">The element type as the file spells it; kept verbatim for types Wafer does not know.</param>
/// <param name="DType">The element type Wafer codes it as; <see cref="DType.Opaque"/> for unknown or quantised types.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
public sealed record TensorDescriptor(string Name, string DTypeName, DType DType, long[] Shape)
{
    /// <summary>
    /// The row length (last dimension) of a tensor of rank 2 or more, and the column of the element at byte
    /// <paramref name="at"/> of the tensor; (0, 0) for vectors, scalars, opaque types and rows too long to index.
    /// </summary>
    internal (int RowLength, int FirstColumn) RowGeometry(long at)
    {
        int size = DTypes.Size(DType);
        if (Shape.Length < 2 || Shape[^1] is < 2 or > int.MaxValue || size == 0)
        {
            return (0, 0);
        }

        long row = Shape[^1];
        return ((int)row, (int)(at / size % row));
    }
}
