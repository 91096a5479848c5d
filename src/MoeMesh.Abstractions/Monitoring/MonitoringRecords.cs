using MoeMesh.Devices;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Monitoring;

/// <summary>One routed query as the dashboard's live feed shows it.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.decision-record")]
public sealed record DecisionRecord
{
    /// <summary>Position in the monitor's feed, assigned when recorded.</summary>
    [Id(0)] public long Sequence { get; init; }

    [Id(1)] public required string QueryId { get; init; }

    [Id(2)] public DateTimeOffset At { get; init; }

    /// <summary>The first characters of the question.</summary>
    [Id(3)] public string Excerpt { get; init; } = "";

    [Id(4)] public RoutingStrategy Strategy { get; init; }

    [Id(5)] public IReadOnlyList<string> Skills { get; init; } = [];

    /// <summary>The runs: expert, role, silo, device, predicted and measured cost, outcome.</summary>
    [Id(6)] public IReadOnlyList<ExpertRun> Runs { get; init; } = [];

    [Id(7)] public double PredictedLatencyMs { get; init; }

    [Id(8)] public double MeasuredLatencyMs { get; init; }

    [Id(9)] public double PredictedEnergyJoules { get; init; }

    [Id(10)] public double MeasuredEnergyJoules { get; init; }

    [Id(11)] public double? LatencyBudgetMs { get; init; }

    [Id(12)] public double? EnergyBudgetJoules { get; init; }

    [Id(13)] public bool BudgetMet { get; init; }

    [Id(14)] public bool Feasible { get; init; } = true;

    [Id(15)] public AnswerCombination Combination { get; init; } = AnswerCombination.Single;

    [Id(16)] public IReadOnlyList<string> Notes { get; init; } = [];

    [Id(17)] public string Rationale { get; init; } = "";

    /// <summary>Set when the query failed instead of being answered.</summary>
    [Id(18)] public string? Error { get; init; }

    /// <summary>A record of a finished query.</summary>
    public static DecisionRecord From(Query query, QueryResult result, DateTimeOffset at) => new()
    {
        QueryId = result.QueryId,
        At = at,
        Excerpt = Shorten(query.Question),
        Strategy = result.Plan.Strategy,
        Skills = result.Plan.Skills,
        Runs = result.Runs.Select(r => r with { Text = Shorten(r.Text) }).ToList(),
        PredictedLatencyMs = result.Plan.PredictedLatencyMs,
        MeasuredLatencyMs = result.LatencyMs,
        PredictedEnergyJoules = result.Plan.PredictedEnergyJoules,
        MeasuredEnergyJoules = result.EnergyJoules,
        LatencyBudgetMs = result.Plan.LatencyBudgetMs,
        EnergyBudgetJoules = result.Plan.EnergyBudgetJoules,
        BudgetMet = result.BudgetMet,
        Feasible = result.Plan.Feasible,
        Combination = result.Combination,
        Notes = result.Notes,
        Rationale = result.Plan.Rationale,
    };

    private static string Shorten(string text)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= 160 ? flat : string.Concat(flat.AsSpan(0, 159), "…");
    }
}

/// <summary>A silo's live state, reported every few seconds.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.silo-telemetry")]
public sealed record SiloTelemetry
{
    [Id(0)] public required string Silo { get; init; }

    [Id(1)] public required DeviceProfile Device { get; init; }

    [Id(2)] public DateTimeOffset At { get; init; }

    /// <summary>Power now, in watts, when the meter can tell.</summary>
    [Id(3)] public double? PowerWatts { get; init; }

    /// <summary>Energy since the silo started, in joules.</summary>
    [Id(4)] public double EnergyJoules { get; init; }

    /// <summary>The silo's meter (JSON: "nvml", "ina3221", "rapl" or "model").</summary>
    [Id(5)] public MeterKind MeterKind { get; init; } = MeterKind.Model;

    [Id(6)] public string MeterSource { get; init; } = "";

    [Id(7)] public long ModelMemoryUsedBytes { get; init; }

    [Id(8)] public long ModelMemoryBudgetBytes { get; init; }

    /// <summary>Expert replicas loaded on the silo ("expert/replica").</summary>
    [Id(9)] public IReadOnlyList<string> ResidentExperts { get; init; } = [];

    [Id(10)] public int ActiveGenerations { get; init; }

    /// <summary>Models loaded and unloaded since the silo started.</summary>
    [Id(11)] public long Loads { get; init; }

    [Id(12)] public long Evictions { get; init; }

    /// <summary>Generations still running on this silo although their query was cancelled; stays near 0 unless cancellation leaks.</summary>
    [Id(13)] public int CancelledGenerationsRunning { get; init; }
}

/// <summary>Per-expert figures over the monitor's window.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-stats")]
public sealed record ExpertStats
{
    [Id(0)] public required string ExpertId { get; init; }

    [Id(1)] public long Runs { get; init; }

    [Id(2)] public long Failures { get; init; }

    [Id(3)] public double P50LatencyMs { get; init; }

    [Id(4)] public double P99LatencyMs { get; init; }

    /// <summary>Decode speed, tokens per second.</summary>
    [Id(5)] public double TokensPerSecond { get; init; }

    [Id(6)] public double JoulesPerToken { get; init; }

    /// <summary>Silos where a replica is loaded now.</summary>
    [Id(7)] public IReadOnlyList<string> ResidentOn { get; init; } = [];
}

/// <summary>One point of the dashboard's charts: a fixed-width time bucket.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.mesh-sample")]
public sealed record MeshSample
{
    [Id(0)] public DateTimeOffset At { get; init; }

    [Id(1)] public double QueriesPerSecond { get; init; }

    [Id(2)] public double MeanLatencyMs { get; init; }

    [Id(3)] public double MeanEnergyJoules { get; init; }

    [Id(4)] public int BudgetViolations { get; init; }

    [Id(5)] public int Queries { get; init; }
}

/// <summary>Everything the dashboard shows at once.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.mesh-overview")]
public sealed record MeshOverview
{
    [Id(0)] public IReadOnlyList<SiloTelemetry> Silos { get; init; } = [];

    [Id(1)] public IReadOnlyList<ExpertStats> Experts { get; init; } = [];

    [Id(2)] public IReadOnlyList<DecisionRecord> RecentDecisions { get; init; } = [];

    [Id(3)] public IReadOnlyList<MeshSample> Samples { get; init; } = [];

    /// <summary>The sequence of the newest decision, for asking only for newer ones.</summary>
    [Id(4)] public long LastSequence { get; init; }
}
