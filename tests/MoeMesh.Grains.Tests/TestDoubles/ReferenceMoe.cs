using System.Collections.Concurrent;
using MoeMesh.Activations;
using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// A small exact Mixture-of-Experts model in plain C#: real arithmetic (RMSNorm, a causal mixing
/// stand-in for attention, softmax top-k gating, SwiGLU experts), so runs over the mesh can be
/// compared with runs in one process token for token.
/// </summary>
internal sealed class ReferenceMoeLoader(MoeProbe? probe = null) : IMoeModelLoader
{
    private readonly ConcurrentDictionary<string, ReferenceMoeWeights> _weights = new();

    public MoeProbe Probe { get; } = probe ?? new MoeProbe();

    public MoeModelShape ReadShape(string ggufPath) => ReferenceMoeWeights.TinyShape;

    public IMoeBackbone LoadBackbone(string ggufPath) => new ReferenceBackbone(Weights(ggufPath), Probe);

    public IMoeExpertRunner LoadExperts(string ggufPath, int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision = MoeWeightPrecision.Float32)
    {
        Probe.ExpertLoads.Add((layer, precision));
        return new ReferenceExpertRunner(Weights(ggufPath), layer, experts, precision);
    }

    /// <summary>Greedy generation with every expert in this process: the monolithic baseline.</summary>
    public int[] GenerateLocally(string path, int[] prompt, int maxTokens)
    {
        var weights = Weights(path);
        var shape = weights.Shape;
        var runners = Enumerable.Range(0, shape.LayerCount)
            .Select(l => new ReferenceExpertRunner(weights, l, [.. Enumerable.Range(0, shape.ExpertCount)], MoeWeightPrecision.Float32)).ToArray();
        using var session = new ReferenceBackbone(weights, new MoeProbe()).CreateSession(prompt.Length + maxTokens);
        var output = new List<int>();
        var input = prompt;
        while (output.Count < maxTokens)
        {
            var routing = session.Begin(input);
            while (routing is not null)
            {
                var sum = new float[routing.Hidden.Length];
                runners[routing.Layer].Run(routing.Hidden, routing.TokenCount, routing.ExpertIds, routing.Weights, routing.ExpertsPerToken, sum);
                routing = session.Continue(sum);
            }

            var logits = session.Logits.Span[^shape.VocabularySize..];
            var next = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                next = logits[i] > logits[next] ? i : next;
            }

            output.Add(next);
            input = [next];
        }

        return [.. output];
    }

    private ReferenceMoeWeights Weights(string path) => _weights.GetOrAdd(path, p => new ReferenceMoeWeights(ReferenceMoeWeights.TinyShape, p));
}

/// <summary>Lets a test watch the model and hold a generation at a chosen step.</summary>
internal sealed class MoeProbe
{
    public ConcurrentBag<(int Layer, MoeWeightPrecision Precision)> ExpertLoads { get; } = [];

    /// <summary>When set, the step with this index (0 = the prompt) waits in Begin until <see cref="Release"/>.</summary>
    public int PauseAtStep { get; set; } = -1;

    public TaskCompletionSource Paused { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly ManualResetEventSlim _release = new(false);

    public void Release() => _release.Set();

    public void Reset()
    {
        PauseAtStep = -1;
        Paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _release.Reset();
    }

    internal void OnStep(int step)
    {
        if (step == PauseAtStep)
        {
            Paused.TrySetResult();
            _release.Wait(TimeSpan.FromSeconds(60));
        }
    }
}

internal sealed class ReferenceBackbone(ReferenceMoeWeights weights, MoeProbe probe) : IMoeBackbone
{
    public MoeModelShape Shape => weights.Shape;

    public long ResidentBytes => (weights.Embedding.Length + weights.Output.Length) * 4L;

    public IMoeBackboneSession CreateSession(int contextSize) => new ReferenceSession(weights, probe, contextSize);

    public void Dispose()
    {
    }
}

internal sealed class ReferenceExpertRunner : IMoeExpertRunner
{
    private readonly Dictionary<int, ReferenceMoeWeights.Expert> _experts;
    private readonly int _inner;

    public ReferenceExpertRunner(ReferenceMoeWeights weights, int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision)
    {
        Layer = layer;
        Experts = experts;
        Precision = precision;
        _inner = weights.Shape.ExpertFeedForwardSize;
        _experts = experts.ToDictionary(e => e, e => Round(weights.Layers[layer].Experts[e], precision, weights.Shape.HiddenSize));
        ResidentBytes = experts.Count * 3L * _inner * weights.Shape.HiddenSize * (precision == MoeWeightPrecision.Float32 ? 4 : 2);
    }

    public int Layer { get; }

    public IReadOnlyList<int> Experts { get; }

    public MoeWeightPrecision Precision { get; }

    public long ResidentBytes { get; }

    public void Run(ReadOnlySpan<float> hidden, int tokenCount, ReadOnlySpan<int> expertIds, ReadOnlySpan<float> weights, int slotsPerToken, Span<float> output)
    {
        var h = hidden.Length / tokenCount;
        output.Clear();
        for (var t = 0; t < tokenCount; t++)
        {
            for (var s = 0; s < slotsPerToken; s++)
            {
                if (_experts.TryGetValue(expertIds[(t * slotsPerToken) + s], out var expert))
                {
                    var y = ReferenceMoeMath.SwiGlu(expert.Gate, expert.Up, expert.Down, hidden.Slice(t * h, h), _inner);
                    var w = weights[(t * slotsPerToken) + s];
                    for (var i = 0; i < h; i++)
                    {
                        output[(t * h) + i] += w * y[i];
                    }
                }
            }
        }
    }

    public void Dispose()
    {
    }

    private static ReferenceMoeWeights.Expert Round(ReferenceMoeWeights.Expert expert, MoeWeightPrecision precision, int h) => precision switch
    {
        MoeWeightPrecision.Float32 => expert,
        MoeWeightPrecision.Float16 => new(Via(expert.Gate, h, ActivationDType.F16), Via(expert.Up, h, ActivationDType.F16), Via(expert.Down, expert.Down.Length / h, ActivationDType.F16)),
        _ => new(Via(expert.Gate, h, ActivationDType.Q8_0), Via(expert.Up, h, ActivationDType.Q8_0), Via(expert.Down, expert.Down.Length / h, ActivationDType.Q8_0)),
    };

    private static float[] Via(float[] values, int columns, ActivationDType dtype)
    {
        var result = new float[values.Length];
        ActivationTensor.Decode(ActivationTensor.Encode(values, columns, dtype), columns, dtype, result);
        return result;
    }
}
