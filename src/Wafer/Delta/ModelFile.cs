using Wafer.Layout;

namespace Wafer.Delta;

/// <summary>One file of a model (folder or archive) as the patcher sees it: its path, size and segments.</summary>
internal sealed record ModelFile(string Path, long Size, string Format, IReadOnlyList<LayoutSegment> Segments);
