using System.Globalization;
using System.Numerics;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// Names each storage after the dotted path of the first tensor that views it, walking the unpickled graph in
/// pickle order (<c>model.layers.0.mlp.up_proj.weight</c>, <c>state.3.exp_avg</c>). Shared and cyclic
/// containers are visited once, and the walk stops descending past a fixed depth.
/// </summary>
internal static class TorchTensorNamer
{
    private const int MaxDepth = 256;

    /// <summary>Storage key → name of the first tensor found viewing it.</summary>
    public static Dictionary<string, string> Name(object? root)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Visit(root, string.Empty, 0, names, visited);
        return names;
    }

    private static void Visit(object? node, string path, int depth, Dictionary<string, string> names, HashSet<object> visited)
    {
        if (node is TorchTensorRef tensor)
        {
            if (path.Length > 0)
            {
                names.TryAdd(tensor.Storage.Key, path);
            }

            return;
        }

        if (node is null || depth >= MaxDepth || node is string or byte[] || !visited.Add(node))
        {
            return;
        }

        switch (node)
        {
            case PickleDict dict:
                foreach (KeyValuePair<object?, object?> pair in dict.Items)
                {
                    Visit(pair.Value, Join(path, KeyText(pair.Key)), depth + 1, names, visited);
                }

                break;
            case List<object?> list:
                for (int i = 0; i < list.Count; i++)
                {
                    Visit(list[i], Join(path, i.ToString(CultureInfo.InvariantCulture)), depth + 1, names, visited);
                }

                break;
            case object?[] tuple:
                for (int i = 0; i < tuple.Length; i++)
                {
                    Visit(tuple[i], Join(path, i.ToString(CultureInfo.InvariantCulture)), depth + 1, names, visited);
                }

                break;
            case PickleInertObject inert:
                Visit(inert.Arguments, path, depth + 1, names, visited);
                Visit(inert.State, path, depth + 1, names, visited);
                break;
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string KeyText(object? key) => key switch
    {
        string text => text,
        long number => number.ToString(CultureInfo.InvariantCulture),
        BigInteger number => number.ToString(CultureInfo.InvariantCulture),
        bool flag => flag ? "True" : "False",
        null => "None",
        _ => "?",
    };
}
