using MoeMesh.Generation;

namespace MoeMesh.Queries;

/// <summary>How one expert run ended.</summary>
public enum RunOutcome
{
    Completed = 0,

    /// <summary>Cancelled by the caller or by the router (a straggler past the budget).</summary>
    Cancelled = 1,

    /// <summary>Failed; the router re-planned or answered without it.</summary>
    Failed = 2,

    /// <summary>Skipped: the responders agreed, so the aggregator was not needed.</summary>
    Skipped = 3,
}

/// <summary>Measurements of one expert run within a query.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-run")]
public sealed record ExpertRun
{
    [Id(0)] public required string ExpertId { get; init; }

    [Id(1)] public int Replica { get; init; }

    [Id(2)] public ExpertRole Role { get; init; }

    [Id(3)] public string? Silo { get; init; }

    [Id(4)] public string? DeviceName { get; init; }

    [Id(5)] public RunOutcome Outcome { get; init; }

    /// <summary>The expert's own text.</summary>
    [Id(6)] public string Text { get; init; } = "";

    /// <summary>Engine measurements, when the run reached the engine.</summary>
    [Id(7)] public GenerationMetrics? Metrics { get; init; }

    /// <summary>Wall time seen by the router, in milliseconds.</summary>
    [Id(8)] public double LatencyMs { get; init; }

    /// <summary>Energy the run used, in joules.</summary>
    [Id(9)] public double EnergyJoules { get; init; }

    /// <summary>Which meter measured the energy (JSON: "nvml", "ina3221", "rapl", "model", "engine", "replay", "none").</summary>
    [Id(10)] public MeterKind EnergyMeter { get; init; } = MeterKind.Model;

    [Id(11)] public double PredictedLatencyMs { get; init; }

    [Id(12)] public double PredictedEnergyJoules { get; init; }

    /// <summary>The answer letter found in the text, for multiple-choice questions.</summary>
    [Id(13)] public string? Choice { get; init; }

    /// <summary>Why the run failed or was cancelled.</summary>
    [Id(14)] public string? Error { get; init; }

    /// <summary>Time spent loading the model for this run, in milliseconds (0 when resident).</summary>
    [Id(15)] public double LoadMs { get; init; }
}

/// <summary>The answer to a query, with its plan and what it cost.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-result")]
public sealed record QueryResult
{
    [Id(0)] public required string QueryId { get; init; }

    /// <summary>The final answer text.</summary>
    [Id(1)] public string Answer { get; init; } = "";

    /// <summary>For multiple-choice questions, the chosen letter.</summary>
    [Id(2)] public string? Choice { get; init; }

    [Id(3)] public required QueryPlan Plan { get; init; }

    [Id(4)] public IReadOnlyList<ExpertRun> Runs { get; init; } = [];

    /// <summary>Wall time of the whole query seen by the router, in milliseconds.</summary>
    [Id(5)] public double LatencyMs { get; init; }

    /// <summary>Energy of all runs, in joules.</summary>
    [Id(6)] public double EnergyJoules { get; init; }

    /// <summary>True when both budgets were met (measured).</summary>
    [Id(7)] public bool BudgetMet { get; init; }

    /// <summary>How the answer was formed (JSON: "single", "agreement", "vote", "best-weighted" or "aggregator").</summary>
    [Id(8)] public AnswerCombination Combination { get; init; } = AnswerCombination.Single;

    /// <summary>What happened along the way: degradations, failovers, skipped steps.</summary>
    [Id(9)] public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>True when some run's energy is the device-profile model's estimate rather than a hardware meter's reading.</summary>
    public bool EnergyEstimated => Runs.Any(r => Experts.EnergyMeters.IsEstimated(r.EnergyMeter));
}
