namespace Wafer.Formats.PyTorch;

/// <summary>A pickled dict or OrderedDict kept as its key/value pairs in insertion order (keys are not hashed).</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];
}
