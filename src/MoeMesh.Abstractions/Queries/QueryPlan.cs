namespace MoeMesh.Queries;

/// <summary>The part an expert plays in a plan.</summary>
public enum ExpertRole
{
    /// <summary>Answers the question itself.</summary>
    Responder = 0,

    /// <summary>Writes the final answer from the responders' answers.</summary>
    Aggregator = 1,
}

/// <summary>How an expert scored when the router considered it.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.candidate-score")]
public sealed record CandidateScore
{
    [Id(0)] public required string ExpertId { get; init; }

    /// <summary>Expected quality for this query (gate probability or skill competence), higher is better.</summary>
    [Id(1)] public double Score { get; init; }

    [Id(2)] public double PredictedLatencyMs { get; init; }

    [Id(3)] public double PredictedEnergyJoules { get; init; }

    /// <summary>Where its replica runs or would run.</summary>
    [Id(4)] public string? Silo { get; init; }

    /// <summary>Why it was chosen or left out.</summary>
    [Id(5)] public string? Note { get; init; }

    [Id(6)] public bool Chosen { get; init; }
}

/// <summary>One expert run the plan calls for.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.planned-step")]
public sealed record PlannedStep
{
    [Id(0)] public required string ExpertId { get; init; }

    [Id(1)] public int Replica { get; init; }

    [Id(2)] public ExpertRole Role { get; init; }

    /// <summary>The silo that runs it, when known at planning time.</summary>
    [Id(3)] public string? Silo { get; init; }

    [Id(4)] public string? DeviceName { get; init; }

    /// <summary>Gate weight of this expert's answer in a vote.</summary>
    [Id(5)] public double Weight { get; init; } = 1;

    [Id(6)] public double PredictedLatencyMs { get; init; }

    [Id(7)] public double PredictedEnergyJoules { get; init; }

    /// <summary>True when the model was loaded when the plan was made (no load time).</summary>
    [Id(8)] public bool Resident { get; init; }
}

/// <summary>The router's decision for one query, with the reasons.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query-plan")]
public sealed record QueryPlan
{
    [Id(0)] public required string QueryId { get; init; }

    [Id(1)] public RoutingStrategy Strategy { get; init; }

    /// <summary>Skills found in the query.</summary>
    [Id(2)] public IReadOnlyList<string> Skills { get; init; } = [];

    /// <summary>Every expert considered, with its score and predicted cost.</summary>
    [Id(3)] public IReadOnlyList<CandidateScore> Candidates { get; init; } = [];

    /// <summary>The runs chosen, responders first, then the aggregator if any.</summary>
    [Id(4)] public IReadOnlyList<PlannedStep> Steps { get; init; } = [];

    [Id(5)] public double PredictedLatencyMs { get; init; }

    [Id(6)] public double PredictedEnergyJoules { get; init; }

    [Id(7)] public double? LatencyBudgetMs { get; init; }

    [Id(8)] public double? EnergyBudgetJoules { get; init; }

    /// <summary>False when no plan meets the budgets; the plan is then the cheapest possible one.</summary>
    [Id(9)] public bool Feasible { get; init; } = true;

    /// <summary>The budget that cannot be met (JSON: "latency", "energy" or "latency and energy"); null when feasible.</summary>
    [Id(10)] public BindingBudget? BindingBudget { get; init; }

    /// <summary>A sentence or two explaining the choice.</summary>
    [Id(11)] public string Rationale { get; init; } = "";

    /// <summary>Time the router took to decide, in milliseconds.</summary>
    [Id(12)] public double DecisionMs { get; init; }

    /// <summary>The silo whose router made the plan and runs the query.</summary>
    [Id(13)] public string? RouterSilo { get; init; }
}
