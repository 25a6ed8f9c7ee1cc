using Microsoft.Win32.SafeHandles;
using Wafer.Formats.Safetensors;

namespace Wafer.Tests.Codecs;

/// <summary>Finds and reads the shared real-weights folder (WAFER_DATA, else ../shared/data beside the repository root).</summary>
internal static class RealWeights
{
    public static string? Folder { get; } = Locate();

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

    private static string? Locate()
    {
        string? env = Environment.GetEnvironmentVariable("WAFER_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Wafer.slnx")))
            {
                string candidate = Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "data"));
                return Directory.Exists(Path.Combine(candidate, "bytelm-base")) ? candidate : null;
            }
        }

        return null;
    }
}
