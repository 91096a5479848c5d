using MoeMesh.Queries;

namespace MoeMesh.Routing.Selection;

/// <summary>One way to run an expert for the current query: which expert, on which device, at what predicted cost.</summary>
/// <param name="Expert">Index of the expert in the planner's expert list (the gate's or the profiles' order).</param>
/// <param name="Device">The caller's index of the device (0 to 63); runs on one device are sequential.</param>
/// <param name="LatencyMs">Predicted latency of the run, transfer included (from the cost model).</param>
/// <param name="EnergyJoules">Predicted energy of the run.</param>
public readonly record struct PlanningCandidate(int Expert, int Device, double LatencyMs, double EnergyJoules);

/// <summary>A responder the plan runs.</summary>
/// <param name="Candidate">Index into the candidates the planner was given.</param>
/// <param name="Expert">Index of the expert.</param>
/// <param name="ExpertId">The expert's id.</param>
/// <param name="Quality">Its expected quality for the query (gate probability or skill suitability).</param>
/// <param name="Weight">Its weight in the vote.</param>
public sealed record PlannedResponder(int Candidate, int Expert, string ExpertId, double Quality, double Weight);

/// <summary>
/// A routing decision: the responders to run (best first), how to combine them, and the predicted
/// cost; or, when no plan meets the budgets, the reason and the cheapest plan there is.
/// </summary>
public sealed record RoutingPlan
{
    /// <summary>True when the plan meets every budget.</summary>
    public required bool Feasible { get; init; }

    /// <summary>The budget that cannot be met, when infeasible.</summary>
    public BindingBudget Binding { get; init; }

    /// <summary>The responders, best first. When infeasible: the cheapest possible plan, which the caller may run or refuse.</summary>
    public required IReadOnlyList<PlannedResponder> Responders { get; init; }

    /// <summary>The aggregator candidate (index into the aggregator candidates), when the answers go to an aggregator.</summary>
    public int? Aggregator { get; init; }

    /// <summary>Predicted latency of the whole plan.</summary>
    public double LatencyMs { get; init; }

    /// <summary>Predicted energy of the whole plan.</summary>
    public double EnergyJoules { get; init; }

    /// <summary>Set quality of the responders under the search objective.</summary>
    public double Quality { get; init; }

    /// <summary>Every expert's quality for the query, in expert order (for explanations).</summary>
    public IReadOnlyList<double> ExpertQuality { get; init; } = [];

    /// <summary>Why no plan meets the budgets; null when feasible.</summary>
    public InfeasibleBudget? Infeasible { get; init; }

    /// <summary>A sentence explaining the choice.</summary>
    public string Rationale { get; init; } = "";

    /// <summary>Search nodes the exact selection expanded.</summary>
    public int NodesVisited { get; init; }

    /// <summary>
    /// This decision in the mesh's <see cref="QueryPlan"/> shape: every candidate with its score and
    /// cost, the chosen steps (responders, then the aggregator), the budgets and feasibility.
    /// </summary>
    public QueryPlan ToQueryPlan(
        string queryId,
        RoutingStrategy strategy,
        IReadOnlyList<string> experts,
        IReadOnlyList<PlanningCandidate> candidates,
        Func<int, string> deviceName,
        SelectionBudget budget,
        IReadOnlyList<string>? skills = null,
        PlanningCandidate? aggregatorCandidate = null,
        double decisionMs = 0)
    {
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(deviceName);
        ArgumentNullException.ThrowIfNull(budget);
        var chosen = Responders.Select(r => r.Candidate).ToHashSet();
        var scores = candidates.Select((c, i) => new CandidateScore
        {
            ExpertId = experts[c.Expert],
            Score = c.Expert < ExpertQuality.Count ? ExpertQuality[c.Expert] : 0,
            PredictedLatencyMs = c.LatencyMs,
            PredictedEnergyJoules = c.EnergyJoules,
            Silo = deviceName(c.Device),
            Chosen = chosen.Contains(i),
            Note = chosen.Contains(i) ? (Feasible ? "chosen" : "cheapest plan; budgets cannot be met") : null,
        }).ToArray();
        var steps = Responders.Select(r => new PlannedStep
        {
            ExpertId = r.ExpertId,
            Role = ExpertRole.Responder,
            DeviceName = deviceName(candidates[r.Candidate].Device),
            Weight = r.Weight,
            PredictedLatencyMs = candidates[r.Candidate].LatencyMs,
            PredictedEnergyJoules = candidates[r.Candidate].EnergyJoules,
        }).ToList();
        if (Aggregator is not null && aggregatorCandidate is { } aggregator)
        {
            steps.Add(new PlannedStep
            {
                ExpertId = experts[aggregator.Expert],
                Role = ExpertRole.Aggregator,
                DeviceName = deviceName(aggregator.Device),
                PredictedLatencyMs = aggregator.LatencyMs,
                PredictedEnergyJoules = aggregator.EnergyJoules,
            });
        }

        return new QueryPlan
        {
            QueryId = queryId,
            Strategy = strategy,
            Skills = skills ?? [],
            Candidates = scores,
            Steps = steps,
            PredictedLatencyMs = LatencyMs,
            PredictedEnergyJoules = EnergyJoules,
            LatencyBudgetMs = budget.LatencyMs,
            EnergyBudgetJoules = budget.EnergyJoules,
            Feasible = Feasible,
            BindingBudget = Binding switch
            {
                BindingBudget.Latency => "latency",
                BindingBudget.Energy => "energy",
                BindingBudget.LatencyAndEnergy => "latency and energy",
                _ => null,
            },
            Rationale = Rationale,
            DecisionMs = decisionMs,
        };
    }
}
