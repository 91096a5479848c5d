using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// Low-precision local copies of routed experts, for budgeted runs whose shard is slow or lost:
/// least-recently-used, about twice the active experts resident, warmed from the previous token's
/// routing. Shared experts need no place here: they live in the backbone and are always resident.
/// </summary>
internal sealed class MoeLocalExpertCache(IMoeModelLoader loader, string path, int capacity, MoeWeightPrecision precision) : IDisposable
{
    private readonly Dictionary<(int Layer, int Expert), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = new();
    private readonly object _gate = new();

    public int Capacity => capacity;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// Runs the experts <paramref name="experts"/> of <paramref name="layer"/> on the given tokens
    /// and adds their weighted outputs into <paramref name="output"/>; returns (hits, misses).
    /// </summary>
    public (int Hits, int Misses) Run(int layer, IReadOnlyList<int> experts, float[] hidden, int tokens, int[] ids, float[] weights, int k, float[] output)
    {
        int hits = 0, misses = 0;
        var partial = new float[output.Length];
        foreach (var expert in experts)
        {
            var runner = Get(layer, expert, out var hit);
            _ = hit ? hits++ : misses++;
            Array.Clear(partial);
            runner.Run(hidden, tokens, ids, weights, k, partial);
            for (var i = 0; i < output.Length; i++)
            {
                output[i] += partial[i];
            }
        }

        return (hits, misses);
    }

    /// <summary>Loads the experts that are not resident; returns how many it loaded.</summary>
    public int Prefetch(int layer, IEnumerable<int> experts)
    {
        var loaded = 0;
        foreach (var expert in experts)
        {
            _ = Get(layer, expert, out var hit);
            loaded += hit ? 0 : 1;
        }

        return loaded;
    }

    private IMoeExpertRunner Get(int layer, int expert, out bool hit)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((layer, expert), out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                hit = true;
                return node.Value.Runner;
            }

            var runner = loader.LoadExperts(path, layer, [expert], precision);
            _entries[(layer, expert)] = _recency.AddFirst(new Entry(layer, expert, runner));
            while (_entries.Count > capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove((oldest.Value.Layer, oldest.Value.Expert));
                oldest.Value.Runner.Dispose();
            }

            hit = false;
            return runner;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _recency)
            {
                entry.Runner.Dispose();
            }

            _entries.Clear();
            _recency.Clear();
        }
    }

    private sealed record Entry(int Layer, int Expert, IMoeExpertRunner Runner);
}
