using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Onnx;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// Some routed experts of one layer on ONNX Runtime, one SwiGLU graph per expert: a step gathers the
/// tokens routed to each held expert, runs that expert once on all of them, and adds weight × output
/// into each token's row. With more than one thread (<see cref="MoeExecutionOptions.Threads"/>) the
/// step's experts run side by side, each graph on one thread: a decode step's graphs are too small
/// to split, but the step selects several. Contributions are added in expert order whatever the
/// thread count, so results do not depend on it. Pinned buffers grow to the largest step seen and
/// are reused, with the tensors and IO bindings of each decode-sized row count
/// (<see cref="OrtBoundRows"/>). Not thread-safe.
/// </summary>
public sealed class OnnxMoeExpertRunner : IMoeExpertRunner
{
    private readonly Dictionary<int, OnnxGraphSession> _sessions;
    private readonly int _hidden;
    private readonly ExpertStep _step;

    private OnnxMoeExpertRunner(int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision, Dictionary<int, OnnxGraphSession> sessions, int hidden, long residentBytes, int threads)
    {
        Layer = layer;
        Experts = experts;
        Precision = precision;
        _sessions = sessions;
        _hidden = hidden;
        _step = new ExpertStep(hidden, experts.Max() + 1, threads);
        ResidentBytes = residentBytes;
    }

    public int Layer { get; }

    public IReadOnlyList<int> Experts { get; }

    public MoeWeightPrecision Precision { get; }

    public long ResidentBytes { get; }

    /// <summary>Reads only <paramref name="experts"/>' slices of <paramref name="layer"/> and builds their graphs.</summary>
    public static OnnxMoeExpertRunner Load(MoeGgufModel model, int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision, MoeExecutionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(experts);
        var shape = model.Shape;
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, shape.LayerCount);
        if (experts.Count == 0 || experts.Any(e => e < 0 || e >= shape.ExpertCount) || experts.Distinct().Count() != experts.Count)
        {
            throw new ArgumentException($"Experts must be distinct indices in 0..{shape.ExpertCount - 1}.", nameof(experts));
        }

        if (precision == MoeWeightPrecision.Q8 && (shape.HiddenSize % 32 != 0 || shape.ExpertFeedForwardSize % 32 != 0))
        {
            throw new ArgumentException("Q8 expert runners need hidden and expert sizes that are multiples of 32.", nameof(precision));
        }

        var b = $"blk.{layer}.";
        var sessions = new Dictionary<int, OnnxGraphSession>();
        try
        {
            foreach (var expert in experts)
            {
                var weights = new ExpertWeights(
                    expert,
                    model.ReadExpert(b + "ffn_gate_exps.weight", expert),
                    model.ReadExpert(b + "ffn_up_exps.weight", expert),
                    model.ReadExpert(b + "ffn_down_exps.weight", expert),
                    shape.ExpertFeedForwardSize);
                var graph = MoeGraphs.Expert(weights, shape.HiddenSize, precision);
                sessions[expert] = new OnnxGraphSession(graph, MoeExecutionOptions.Default, ["x"], ["y"]);
            }
        }
        catch
        {
            foreach (var session in sessions.Values)
            {
                session.Dispose();
            }

            throw;
        }

        // Q8: one byte per weight plus a float scale per 32.
        var bytesPerWeight = precision switch { MoeWeightPrecision.Float16 => 2.0, MoeWeightPrecision.Q8 => 1.125, _ => 4.0 };
        var resident = (long)(experts.Count * 3L * shape.HiddenSize * shape.ExpertFeedForwardSize * bytesPerWeight);
        return new OnnxMoeExpertRunner(layer, [.. experts], precision, sessions, shape.HiddenSize, resident, (options ?? MoeExecutionOptions.Default).Threads);
    }

    public void Run(ReadOnlySpan<float> hidden, int tokenCount, ReadOnlySpan<int> expertIds, ReadOnlySpan<float> weights, int slotsPerToken, Span<float> output)
    {
        var h = _hidden;
        if (hidden.Length != tokenCount * h || output.Length != tokenCount * h
            || expertIds.Length != tokenCount * slotsPerToken || weights.Length != tokenCount * slotsPerToken)
        {
            throw new ArgumentException($"Expected {tokenCount} × {h} hidden and output values and {tokenCount} × {slotsPerToken} expert slots.");
        }

        _step.Run(_sessions, hidden, tokenCount, expertIds, weights, slotsPerToken, output);
    }

    public void Dispose()
    {
        _step.Dispose();
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }
    }
}
