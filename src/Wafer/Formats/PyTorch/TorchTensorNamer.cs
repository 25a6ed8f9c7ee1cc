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

    /// <summary>Longest name built; a longer path (hostile keys) leaves the storage with its fallback name.</summary>
    private const int MaxNameLength = 1024;

    /// <summary>Storage key → name of the first tensor found viewing it.</summary>
    public static Dictionary<string, string> Name(object? root)
    {
        var walk = new Walk();
        walk.Visit(root, 0);
        return walk.Names;
    }

    private sealed class Walk
    {
        // The path is kept as parts and joined only when a storage gets its name, so deep or wide graphs with
        // long keys cost no string building per node.
        private readonly List<string> _parts = [];
        private readonly HashSet<object> _visited = new(ReferenceEqualityComparer.Instance);
        private int _pathLength;

        public Dictionary<string, string> Names { get; } = new(StringComparer.Ordinal);

        public void Visit(object? node, int depth)
        {
            if (node is TorchTensorRef tensor)
            {
                if (_parts.Count > 0 && _pathLength <= MaxNameLength && !Names.ContainsKey(tensor.Storage.Key))
                {
                    Names.Add(tensor.Storage.Key, string.Join('.', _parts));
                }

                return;
            }

            if (node is null || depth >= MaxDepth || node is string or byte[] || !_visited.Add(node))
            {
                return;
            }

            switch (node)
            {
                case PickleDict dict:
                    foreach (KeyValuePair<object?, object?> pair in dict.Items)
                    {
                        VisitChild(pair.Value, KeyText(pair.Key), depth);
                    }

                    break;
                case List<object?> list:
                    for (int i = 0; i < list.Count; i++)
                    {
                        VisitChild(list[i], i.ToString(CultureInfo.InvariantCulture), depth);
                    }

                    break;
                case object?[] tuple:
                    for (int i = 0; i < tuple.Length; i++)
                    {
                        VisitChild(tuple[i], i.ToString(CultureInfo.InvariantCulture), depth);
                    }

                    break;
                case PickleInertObject inert:
                    Visit(inert.Arguments, depth + 1);
                    Visit(inert.State, depth + 1);
                    break;
            }
        }

        private void VisitChild(object? child, string key, int depth)
        {
            if (child is null or string or long or double or bool)
            {
                return;
            }

            int added = key.Length + (_parts.Count > 0 ? 1 : 0);
            _parts.Add(key);
            _pathLength += added;
            Visit(child, depth + 1);
            _pathLength -= added;
            _parts.RemoveAt(_parts.Count - 1);
        }
    }

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
