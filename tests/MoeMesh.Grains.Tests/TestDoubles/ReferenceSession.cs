using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>One sequence of the reference MoE; its "KV cache" is every layer's past normalised states.</summary>
internal sealed class ReferenceSession(ReferenceMoeWeights weights, MoeProbe probe, int contextSize) : IMoeBackboneSession
{
    private readonly List<float[]>[] _cache = [.. Enumerable.Range(0, weights.Shape.LayerCount).Select(_ => new List<float[]>())];
    private float[][] _state = [];
    private int _layer = -1;
    private int _first;
    private int _steps;
    private float[] _logits = [];

    public MoeModelShape Shape => weights.Shape;

    public int Position { get; private set; }

    public ReadOnlyMemory<float> Logits => _logits;

    public MoeLayerRouting Begin(ReadOnlySpan<int> tokens)
    {
        if (_layer >= 0 || tokens.Length == 0 || Position + tokens.Length > contextSize)
        {
            throw new InvalidOperationException("A step is already running, the step is empty, or the context is full.");
        }

        probe.OnStep(_steps++);
        var h = Shape.HiddenSize;
        _state = new float[tokens.Length][];
        for (var t = 0; t < tokens.Length; t++)
        {
            _state[t] = weights.Embedding.AsSpan(tokens[t] * h, h).ToArray();
        }

        _first = Position;
        Position += tokens.Length;
        _layer = 0;
        return Route();
    }

    public MoeLayerRouting? Continue(ReadOnlySpan<float> routedExpertOutput)
    {
        var h = Shape.HiddenSize;
        for (var t = 0; t < _state.Length; t++)
        {
            for (var i = 0; i < h; i++)
            {
                _state[t][i] += routedExpertOutput[(t * h) + i];
            }
        }

        if (++_layer < Shape.LayerCount)
        {
            return Route();
        }

        _layer = -1;
        _logits = [.. _state.SelectMany(s => ReferenceMoeMath.MatVec(weights.Output, ReferenceMoeMath.RmsNorm(s, Shape.RmsNormEpsilon), Shape.VocabularySize))];
        return null;
    }

    public void Truncate(int position)
    {
        foreach (var layer in _cache)
        {
            layer.RemoveRange(position, layer.Count - position);
        }

        Position = position;
    }

    public void Dispose()
    {
    }

    /// <summary>Mixes in the causal mean of the layer's past states, then gates the normalised state.</summary>
    private MoeLayerRouting Route()
    {
        var (h, k) = (Shape.HiddenSize, Shape.ExpertsPerToken);
        var layer = weights.Layers[_layer];
        var hidden = new float[_state.Length * h];
        var ids = new int[_state.Length * k];
        var gates = new float[_state.Length * k];
        for (var t = 0; t < _state.Length; t++)
        {
            _cache[_layer].Add(ReferenceMoeMath.RmsNorm(_state[t], Shape.RmsNormEpsilon));
            var mean = new float[h];
            foreach (var past in _cache[_layer])
            {
                for (var i = 0; i < h; i++)
                {
                    mean[i] += past[i] / _cache[_layer].Count;
                }
            }

            var mixed = ReferenceMoeMath.MatVec(layer.Mix, mean, h);
            for (var i = 0; i < h; i++)
            {
                _state[t][i] += mixed[i];
            }

            var x = ReferenceMoeMath.RmsNorm(_state[t], Shape.RmsNormEpsilon);
            x.CopyTo(hidden, t * h);
            var (chosen, w) = ReferenceMoeMath.TopK(ReferenceMoeMath.MatVec(layer.Router, x, Shape.ExpertCount), k);
            chosen.CopyTo(ids, t * k);
            w.CopyTo(gates, t * k);
        }

        return new MoeLayerRouting
        {
            Layer = _layer, TokenCount = _state.Length, HiddenSize = h, ExpertsPerToken = k, FirstPosition = _first,
            Hidden = hidden, ExpertIds = ids, Weights = gates,
        };
    }
}
