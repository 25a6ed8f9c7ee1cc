using System.Buffers.Binary;
using System.Text;

namespace Wafer.Tests.TestSupport;

/// <summary>
/// Builds safetensors bytes by hand from a literal JSON header, independently of Wafer's own writer, so
/// tests check the reader against the specification rather than against ourselves.
/// </summary>
public static class SafetensorsBuilder
{
    /// <summary>The 8-byte little-endian header length, the JSON, then the data section.</summary>
    public static byte[] FromHeader(string json, byte[] data, int declaredLength = -1)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        byte[] file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(declaredLength >= 0 ? declaredLength : header.Length));
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>A file with the given tensors laid out densely in order; data is filled from <paramref name="random"/>.</summary>
    public static byte[] Dense(Random random, params (string Name, string DType, long[] Shape, int ElementSize)[] tensors)
    {
        var json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach ((string name, string dtype, long[] shape, int size) in tensors)
        {
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * size;
            json.Append($",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }

        json.Append('}');
        while ((json.Length + 8) % 8 != 0)
        {
            json.Append(' ');
        }

        byte[] data = new byte[offset];
        random.NextBytes(data);
        return FromHeader(json.ToString(), data);
    }
}
