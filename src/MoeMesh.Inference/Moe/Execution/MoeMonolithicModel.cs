using MoeMesh.Inference.Moe.Loading;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// A whole MoE model in one process: the backbone and every layer's experts, driven through the
/// same step protocol the distributed mode uses. The baseline distributed runs are measured against.
/// </summary>
public sealed class MoeMonolithicModel : IDisposable
{
    private readonly IMoeBackbone _backbone;
    private readonly IMoeExpertRunner[] _experts;
    private float[] _routed = [];

    public MoeMonolithicModel(IMoeBackbone backbone, IReadOnlyList<IMoeExpertRunner> experts)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(experts);
        _backbone = backbone;
        _experts = new IMoeExpertRunner[backbone.Shape.LayerCount];
        foreach (var runner in experts)
        {
            _experts[runner.Layer] = runner;
        }

        if (_experts.Any(r => r is null))
        {
            throw new ArgumentException("Every layer needs an expert runner.", nameof(experts));
        }
    }

    public MoeModelShape Shape => _backbone.Shape;

    /// <summary>Memory of the backbone and all experts.</summary>
    public long ResidentBytes => _backbone.ResidentBytes + _experts.Sum(e => e.ResidentBytes);

    /// <summary>Loads <paramref name="ggufPath"/> with every expert of every layer on ONNX Runtime.</summary>
    public static MoeMonolithicModel Load(string ggufPath, MoeExecutionOptions? options = null)
    {
        using var model = MoeGgufModel.Open(ggufPath);
        var backbone = OnnxMoeBackbone.Load(model, options);
        var runners = new List<IMoeExpertRunner>();
        try
        {
            var all = Enumerable.Range(0, model.Shape.ExpertCount).ToArray();
            for (var layer = 0; layer < model.Shape.LayerCount; layer++)
            {
                runners.Add(OnnxMoeExpertRunner.Load(model, layer, all, MoeWeightPrecision.Float32, options));
            }

            return new MoeMonolithicModel(backbone, runners);
        }
        catch
        {
            runners.ForEach(r => r.Dispose());
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>Starts a sequence.</summary>
    public IMoeBackboneSession CreateSession(int contextSize) => _backbone.CreateSession(contextSize);

    /// <summary>Runs one step of <paramref name="tokens"/> on <paramref name="session"/> and returns the logits of every token (valid until the session's next step). Not thread-safe.</summary>
    public ReadOnlyMemory<float> Step(IMoeBackboneSession session, ReadOnlySpan<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(session);
        var routing = session.Begin(tokens);
        var size = tokens.Length * Shape.HiddenSize;
        if (_routed.Length < size)
        {
            _routed = new float[size];
        }

        var output = _routed.AsSpan(0, size);
        while (routing is not null)
        {
            _experts[routing.Layer].Run(routing.Hidden, routing.TokenCount, routing.ExpertIds, routing.Weights, routing.ExpertsPerToken, output);
            routing = session.Continue(output);
        }

        return session.Logits;
    }

    /// <summary>Logits of every position of <paramref name="tokens"/> in a fresh sequence (T × vocabulary).</summary>
    public float[] EvaluateAll(ReadOnlySpan<int> tokens)
    {
        using var session = CreateSession(tokens.Length);
        return Step(session, tokens).ToArray();
    }

    /// <summary>Reads <paramref name="prompt"/> and generates <paramref name="count"/> tokens greedily.</summary>
    public int[] Greedy(ReadOnlySpan<int> prompt, int count) => Greedy(prompt, count, out _);

    /// <summary>As <see cref="Greedy(ReadOnlySpan{int}, int)"/>, also timing the decode steps (the prompt excluded).</summary>
    public int[] Greedy(ReadOnlySpan<int> prompt, int count, out TimeSpan decodeTime)
    {
        using var session = CreateSession(prompt.Length + count);
        var vocabulary = Shape.VocabularySize;
        var logits = Step(session, prompt);
        var next = ArgMax(logits.Span[((prompt.Length - 1) * vocabulary)..]);
        var result = new int[count];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            result[i] = next;
            if (i < count - 1)
            {
                next = ArgMax(Step(session, [next]).Span);
            }
        }

        decodeTime = watch.Elapsed;
        return result;
    }

    public void Dispose()
    {
        foreach (var runner in _experts)
        {
            runner.Dispose();
        }

        _backbone.Dispose();
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
