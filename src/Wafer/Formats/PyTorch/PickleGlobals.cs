namespace Wafer.Formats.PyTorch;

/// <summary>
/// The allow-list of globals a torch checkpoint pickle may name. Anything else (<c>os.system</c>,
/// <c>builtins.eval</c>, a user's training-arguments class) is refused, and the file is then kept opaque.
/// </summary>
internal static class PickleGlobals
{
    private static readonly HashSet<string> s_torchDTypes = new(StringComparer.Ordinal)
    {
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "uint16", "uint32", "uint64", "bool", "complex32", "complex64",
        "complex128", "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
        "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
    };

    private static readonly HashSet<string> s_inert = new(StringComparer.Ordinal)
    {
        // NumPy arrays and scalars in RNG states: only their arguments are recorded.
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray", "numpy.dtype",
        // Protocol 2 spells Python 3 bytes as _codecs.encode(text, 'latin1').
        "_codecs.encode",
        "torch.device", "torch.Size",
        // Tensor classes passed to _rebuild_from_type_v2: never instantiated, only named.
        "torch.Tensor", "torch.nn.parameter.Parameter",
        "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset",
    };

    /// <summary>The allow-listed meaning of <paramref name="module"/>.<paramref name="name"/>, or null when refused.</summary>
    public static PickleGlobal? Resolve(string module, string name)
    {
        switch (module)
        {
            case "torch._utils" when name is "_rebuild_tensor_v2" or "_rebuild_tensor":
                return new PickleGlobal(module, name, PickleGlobalKind.RebuildTensor);
            case "torch._utils" when name is "_rebuild_parameter" or "_rebuild_parameter_with_state":
                return new PickleGlobal(module, name, PickleGlobalKind.RebuildParameter);
            case "torch._tensor" when name == "_rebuild_from_type_v2":
                return new PickleGlobal(module, name, PickleGlobalKind.RebuildFromType);
            case "collections" when name == "OrderedDict":
                return new PickleGlobal(module, name, PickleGlobalKind.OrderedDict);
            case "torch" or "torch.cuda" when TorchStorageTypes.Find(name) is { } storage:
                return new PickleGlobal(module, name, PickleGlobalKind.StorageType, storage);
            case "torch" when s_torchDTypes.Contains(name):
                return new PickleGlobal(module, name, PickleGlobalKind.TorchDType);
            default:
                return s_inert.Contains($"{module}.{name}") ? new PickleGlobal(module, name, PickleGlobalKind.Inert) : null;
        }
    }
}
