using Microsoft.Win32.SafeHandles;
using Wafer.Formats.Safetensors;
using Wafer.Tests.TestSupport;

namespace Wafer.Tests.Codecs;

/// <summary>Reads tensors from the shared real weights (located by <see cref="RealData"/>).</summary>
internal static class RealWeights
{
    public static string? Folder => RealData.Folder;

    /// <summary>Every tensor of a safetensors file under the data folder, as (dtype, bytes).</summary>
    public static List<(DType DType, byte[] Bytes)> Tensors(string relativePath)
    {
        string path = Path.Combine(Folder!, relativePath);
        using SafeFileHandle file = File.OpenHandle(path);
        long length = RandomAccess.GetLength(file);
        SafetensorsHeader header = SafetensorsHeader.Read(path, file, length);
        var tensors = new List<(DType, byte[])>();
        foreach (SafetensorsEntry e in header.Tensors)
        {
            byte[] bytes = new byte[e.End - e.Begin];
            RandomAccess.Read(file, bytes, header.DataStart + e.Begin);
            tensors.Add((e.Descriptor.DType, bytes));
        }

        return tensors;
    }
}
