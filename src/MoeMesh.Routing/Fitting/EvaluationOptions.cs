using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;

namespace MoeMesh.Routing.Fitting;

/// <summary>Settings of an evaluation run on recorded outputs.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The most experts a plan may run (k).</summary>
    public int K { get; init; } = 3;

    /// <summary>Latency budget per query in milliseconds; null for none.</summary>
    public double? LatencyBudgetMs { get; init; }

    /// <summary>Energy budget per query in joules; null for none.</summary>
    public double? EnergyBudgetJoules { get; init; }

    /// <summary>
    /// Output tokens assumed for an expert whose recording kept no output length (every edge model):
    /// a chain-of-thought answer to a multiple-choice question.
    /// </summary>
    public int DefaultOutputTokens { get; init; } = 256;

    /// <summary>Characters per token, for prompt lengths and recorded output lengths.</summary>
    public double CharsPerToken { get; init; } = 4;

    /// <summary>Tokens the chat template and instructions add to every prompt.</summary>
    public int PromptTemplateTokens { get; init; } = 32;

    /// <summary>Weight quantisation assumed for every local expert.</summary>
    public string Quantization { get; init; } = "Q4_K_M";

    /// <summary>Seed of the random baseline and of sampled recruiting.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The cost model's rules of thumb.</summary>
    public CostModelOptions CostModel { get; init; } = new();

    /// <summary>Settings of the MoE² gate.</summary>
    public GateTrainingOptions Gate { get; init; } = new();

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(CostModel.Validate());
        problems.AddRange(Gate.Validate());
        if (K is < 1 or > 16)
        {
            problems.Add($"k must be between 1 and 16, got {K}");
        }

        if (LatencyBudgetMs is { } ms && (!double.IsFinite(ms) || ms <= 0))
        {
            problems.Add($"the latency budget must be a positive number of milliseconds, got {ms}");
        }

        if (EnergyBudgetJoules is { } j && (!double.IsFinite(j) || j <= 0))
        {
            problems.Add($"the energy budget must be a positive number of joules, got {j}");
        }

        if (DefaultOutputTokens is < 1 or > 32_768)
        {
            problems.Add($"the assumed output length must be between 1 and 32768 tokens, got {DefaultOutputTokens}");
        }

        if (!double.IsFinite(CharsPerToken) || CharsPerToken <= 0)
        {
            problems.Add($"characters per token must be positive, got {CharsPerToken}");
        }

        if (PromptTemplateTokens is < 0 or > 32_768)
        {
            problems.Add($"prompt template tokens must be between 0 and 32768, got {PromptTemplateTokens}");
        }

        if (!Experts.Quantization.TryGetBitsPerWeight(Quantization, out _))
        {
            problems.Add($"quantisation '{Quantization}' is unknown; use one of {string.Join(", ", Experts.Quantization.Known)}");
        }

        return problems;
    }
}
