using System.Globalization;

namespace MoeMesh.Routing.Selection;

/// <summary>Where a candidate runs in the mesh: the expert's id there, its silo, device and replica.</summary>
/// <param name="ExpertId">The mesh's id of the expert (its manifest id, which may differ from a recorded model's name).</param>
/// <param name="Silo">The silo that runs it.</param>
/// <param name="DeviceName">The device of that silo.</param>
/// <param name="Replica">The replica to use: one loaded there, or a free index to place there.</param>
/// <param name="Resident">True when that replica is loaded (no load time in the prediction).</param>
public sealed record MeshPlacement(string ExpertId, string Silo, string DeviceName, int Replica, bool Resident);

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

/// <summary>What a <see cref="RoutingPlan"/> needs besides itself to become the mesh's <see cref="QueryPlan"/>.</summary>
public sealed record QueryPlanContext
{
    public required string QueryId { get; init; }

    public RoutingStrategy Strategy { get; init; }

    /// <summary>The planner's experts, in the order <see cref="PlanningCandidate.Expert"/> indexes.</summary>
    public required IReadOnlyList<string> Experts { get; init; }

    /// <summary>The candidates the plan was chosen from.</summary>
    public required IReadOnlyList<PlanningCandidate> Candidates { get; init; }

    /// <summary>
    /// Where each candidate runs in the mesh, in candidate order; null offline, where devices are only
    /// indices (steps then name no silo).
    /// </summary>
    public IReadOnlyList<MeshPlacement>? Placements { get; init; }

    public required SelectionBudget Budget { get; init; }

    /// <summary>Skills found in the query.</summary>
    public IReadOnlyList<string> Skills { get; init; } = [];

    /// <summary>The aggregator's cost, when the plan has one.</summary>
    public PlanningCandidate? Aggregator { get; init; }

    /// <summary>Where the aggregator runs in the mesh.</summary>
    public MeshPlacement? AggregatorPlacement { get; init; }

    /// <summary>What the scores came from ("Trained gate"), put before the rationale; null for nothing.</summary>
    public string? Basis { get; init; }

    /// <summary>The silo whose router made the plan and runs it.</summary>
    public string? RouterSilo { get; init; }

    /// <summary>Time taken to decide, in milliseconds.</summary>
    public double DecisionMs { get; init; }
}

/// <summary>
/// A routing decision: the responders to run (best first), how to combine them, and the predicted
/// cost; or, when no plan meets the budgets, the reason and the cheapest plan there is.
/// </summary>
public sealed record RoutingPlan
{
    private const string NotLoadedNote = "not loaded: load time included";

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
    /// The single fastest (or most frugal) candidate, as a plan; infeasible when even it breaks a
    /// budget, and then run anyway.
    /// </summary>
    public static RoutingPlan Extreme(IReadOnlyList<PlanningCandidate> candidates, SelectionBudget budget, IReadOnlyList<string> experts, bool fastest)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentOutOfRangeException.ThrowIfZero(candidates.Count);
        var index = 0;
        for (var i = 1; i < candidates.Count; i++)
        {
            var better = fastest
                ? candidates[i].LatencyMs < candidates[index].LatencyMs
                : candidates[i].EnergyJoules < candidates[index].EnergyJoules;
            if (better)
            {
                index = i;
            }
        }

        var chosen = candidates[index];
        var overLatency = budget.LatencyMs is { } l && chosen.LatencyMs > l;
        var overEnergy = budget.EnergyJoules is { } j && chosen.EnergyJoules > j;
        var binding = (overLatency, overEnergy) switch
        {
            (true, true) => BindingBudget.LatencyAndEnergy,
            (true, false) => BindingBudget.Latency,
            (false, true) => BindingBudget.Energy,
            _ => BindingBudget.None,
        };
        var what = fastest ? "lowest predicted latency" : "lowest predicted energy";
        return new RoutingPlan
        {
            Feasible = binding == BindingBudget.None,
            Binding = binding,
            Responders = [new PlannedResponder(index, chosen.Expert, experts[chosen.Expert], 1, 1)],
            LatencyMs = chosen.LatencyMs,
            EnergyJoules = chosen.EnergyJoules,
            ExpertQuality = [],
            Rationale = binding == BindingBudget.None
                ? string.Create(CultureInfo.InvariantCulture, $"{experts[chosen.Expert]} has the {what} ({chosen.LatencyMs:0.#} ms, {chosen.EnergyJoules:0.##} J)")
                : string.Create(CultureInfo.InvariantCulture, $"even {experts[chosen.Expert]}, the {what}, breaks the {(overLatency ? "latency" : "energy")} budget; running it anyway"),
        };
    }

    /// <summary>This plan with <paramref name="aggregator"/> reading the responders' answers: its cost added.</summary>
    public RoutingPlan WithAggregator(PlanningCandidate? aggregator) => this with
    {
        Aggregator = 0,
        LatencyMs = LatencyMs + (aggregator?.LatencyMs ?? 0),
        EnergyJoules = EnergyJoules + (aggregator?.EnergyJoules ?? 0),
    };

    /// <summary>
    /// This decision in the mesh's <see cref="QueryPlan"/> shape, complete: every candidate with its
    /// score, cost and placement, the chosen steps (responders, then the aggregator) on their silos
    /// and replicas, the budgets, feasibility, rationale and timing.
    /// </summary>
    public QueryPlan ToQueryPlan(QueryPlanContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var candidates = context.Candidates;
        var placements = context.Placements;
        if (placements is not null && placements.Count != candidates.Count)
        {
            throw new ArgumentException($"{placements.Count} placements for {candidates.Count} candidates", nameof(context));
        }

        var chosen = new bool[candidates.Count];
        foreach (var r in Responders)
        {
            chosen[r.Candidate] = true;
        }

        var scores = new CandidateScore[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            var placement = placements?[i];
            scores[i] = new CandidateScore
            {
                ExpertId = placement?.ExpertId ?? context.Experts[c.Expert],
                Score = c.Expert < ExpertQuality.Count ? ExpertQuality[c.Expert] : 0,
                PredictedLatencyMs = c.LatencyMs,
                PredictedEnergyJoules = c.EnergyJoules,
                Silo = placement?.Silo,
                Chosen = chosen[i],
                Note = NoteOf(placement, chosen[i]),
            };
        }

        var steps = new List<PlannedStep>(Responders.Count + 1);
        foreach (var r in Responders)
        {
            steps.Add(Step(candidates[r.Candidate], placements?[r.Candidate], context.Experts, ExpertRole.Responder, r.Weight));
        }

        if (Aggregator is not null && context.Aggregator is { } aggregator)
        {
            steps.Add(Step(aggregator, context.AggregatorPlacement, context.Experts, ExpertRole.Aggregator, weight: 1));
        }

        return new QueryPlan
        {
            QueryId = context.QueryId,
            Strategy = context.Strategy,
            Skills = context.Skills,
            Candidates = scores,
            Steps = steps,
            PredictedLatencyMs = LatencyMs,
            PredictedEnergyJoules = EnergyJoules,
            LatencyBudgetMs = context.Budget.LatencyMs,
            EnergyBudgetJoules = context.Budget.EnergyJoules,
            Feasible = Feasible,
            BindingBudget = Binding == BindingBudget.None ? null : Binding,
            Rationale = context.Basis is null ? Rationale : $"{context.Basis}: {Rationale}",
            DecisionMs = context.DecisionMs,
            RouterSilo = context.RouterSilo,
        };
    }

    private string? NoteOf(MeshPlacement? placement, bool chosen)
    {
        var note = chosen ? (Feasible ? "chosen" : "cheapest plan; budgets cannot be met") : null;
        if (placement is { Resident: false })
        {
            note = note is null ? NotLoadedNote : $"{note}; {NotLoadedNote}";
        }

        return note;
    }

    private static PlannedStep Step(PlanningCandidate candidate, MeshPlacement? placement, IReadOnlyList<string> experts, ExpertRole role, double weight) => new()
    {
        ExpertId = placement?.ExpertId ?? experts[candidate.Expert],
        Role = role,
        Silo = placement?.Silo,
        DeviceName = placement?.DeviceName,
        Replica = placement?.Replica ?? 0,
        Resident = placement?.Resident ?? false,
        Weight = weight,
        PredictedLatencyMs = candidate.LatencyMs,
        PredictedEnergyJoules = candidate.EnergyJoules,
    };
}
