using Wafer.Layout;

namespace Wafer.Formats.Safetensors;

/// <summary>One tensor of a safetensors header with its byte range relative to the data section.</summary>
internal sealed record SafetensorsEntry(TensorDescriptor Descriptor, long Begin, long End)
{
    public string Name => Descriptor.Name;
}
