namespace Wafer.Formats.PyTorch;

/// <summary>The record of calling an allow-listed harmless constructor: nothing is constructed, only its arguments are kept.</summary>
internal sealed class PickleInertObject(PickleGlobal constructor, object?[] arguments)
{
    public PickleGlobal Constructor { get; } = constructor;

    public object?[] Arguments { get; } = arguments;

    /// <summary>What a BUILD opcode would have passed to <c>__setstate__</c>.</summary>
    public object? State { get; set; }
}
