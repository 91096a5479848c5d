using MoeMesh.Generation;

namespace MoeMesh.Queries;

/// <summary>What the caller asks of the router: strategy, budgets and generation settings.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-options")]
public sealed record QueryOptions
{
    /// <summary>The most experts any query may use.</summary>
    public const int MaxExpertsLimit = 16;

    /// <summary>How to choose experts.</summary>
    [Id(0)] public RoutingStrategy Strategy { get; init; } = RoutingStrategy.Auto;

    /// <summary>The most experts to run (excluding the aggregator); null lets the strategy decide.</summary>
    [Id(1)] public int? K { get; init; }

    /// <summary>Latency budget for the whole query in milliseconds; null for none.</summary>
    [Id(2)] public double? LatencyBudgetMs { get; init; }

    /// <summary>Energy budget for the whole query in joules; null for none.</summary>
    [Id(3)] public double? EnergyBudgetJoules { get; init; }

    /// <summary>The most tokens each expert generates.</summary>
    [Id(4)] public int MaxTokens { get; init; } = 256;

    /// <summary>How tokens are chosen.</summary>
    [Id(5)] public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Generation stops before any of these strings.</summary>
    [Id(6)] public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Restrict the router to these expert ids; empty means any expert.</summary>
    [Id(7)] public IReadOnlyList<string> Experts { get; init; } = [];

    /// <summary>Problems with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Sampling.Validate());
        if (!Enum.IsDefined(Strategy))
        {
            problems.Add($"strategy {Strategy} is unknown; use one of {string.Join(", ", Enum.GetNames<RoutingStrategy>())}");
        }

        if (K is { } k && (k < 1 || k > MaxExpertsLimit))
        {
            problems.Add($"k must be between 1 and {MaxExpertsLimit}, got {k}");
        }

        if (LatencyBudgetMs is { } ms && (!double.IsFinite(ms) || ms <= 0))
        {
            problems.Add($"latency budget must be a positive number of milliseconds, got {ms}");
        }

        if (EnergyBudgetJoules is { } j && (!double.IsFinite(j) || j <= 0))
        {
            problems.Add($"energy budget must be a positive number of joules, got {j}");
        }

        if (MaxTokens < 1 || MaxTokens > 32_768)
        {
            problems.Add($"max tokens must be between 1 and 32768, got {MaxTokens}");
        }

        if (Stop.Any(string.IsNullOrEmpty))
        {
            problems.Add("stop strings must not be empty");
        }

        return problems;
    }
}
