namespace Wafer.Formats.PyTorch;

/// <summary>What an allow-listed pickle global stands for. Nothing is ever called: each kind is interpreted inertly.</summary>
internal enum PickleGlobalKind
{
    /// <summary><c>torch._utils._rebuild_tensor_v2</c> / <c>_rebuild_tensor</c>: becomes a <see cref="TorchTensorRef"/>.</summary>
    RebuildTensor,
    /// <summary><c>torch._utils._rebuild_parameter</c> (and <c>_with_state</c>): yields its first argument, the tensor.</summary>
    RebuildParameter,
    /// <summary><c>torch._tensor._rebuild_from_type_v2(func, type, args, state)</c>: yields <c>func(*args)</c> for a rebuild func.</summary>
    RebuildFromType,
    /// <summary><c>collections.OrderedDict</c>: an empty <see cref="PickleDict"/>.</summary>
    OrderedDict,
    /// <summary>A torch storage class such as <c>torch.BFloat16Storage</c>; only valid inside a persistent id.</summary>
    StorageType,
    /// <summary>A torch dtype value such as <c>torch.float32</c>; an inert constant.</summary>
    TorchDType,
    /// <summary>A harmless constructor (NumPy arrays and dtypes, <c>_codecs.encode</c>, <c>torch.device</c>) recorded as a <see cref="PickleInertObject"/>.</summary>
    Inert,
}
