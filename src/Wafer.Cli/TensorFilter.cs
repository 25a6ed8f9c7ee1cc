using System.IO.Enumeration;

namespace Wafer.Cli;

/// <summary>Selects tensors by exact names and/or a wildcard pattern (<c>*</c>, <c>?</c>).</summary>
internal static class TensorFilter
{
    public static List<ArchiveTensor> Select(WaferArchive archive, IReadOnlyList<string>? names, string? pattern)
    {
        bool anyName = names is { Count: > 0 };
        if (!anyName && pattern is null)
        {
            return [.. archive.Tensors];
        }

        var selected = new List<ArchiveTensor>();
        if (anyName)
        {
            foreach (string name in names!)
            {
                IReadOnlyList<ArchiveTensor> found = archive.FindTensors(name);
                if (found.Count == 0)
                {
                    throw new WaferDataException($"{archive.Path}: no tensor named '{name}'.");
                }

                selected.AddRange(found);
            }
        }

        if (pattern is not null)
        {
            selected.AddRange(archive.Tensors.Where(t => FileSystemName.MatchesSimpleExpression(pattern, t.Name, ignoreCase: false)));
        }

        return [.. selected.Distinct()];
    }
}
