using MoeMesh.Queries;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Evaluation.Policies;

/// <summary>How a plan's answers become one answer.</summary>
public enum AnswerCombination
{
    /// <summary>Weighted vote of the responders (a single responder's answer is the answer).</summary>
    Vote = 0,

    /// <summary>An aggregator model reads the responders' answers and writes the final one; skipped when they agree.</summary>
    Aggregator = 1,
}

/// <summary>What a router may know about a query when it decides: the text and the costs, never the answers.</summary>
/// <param name="QuestionId">The question's id (seeds per-question randomness).</param>
/// <param name="Text">Question and options as the experts read them.</param>
/// <param name="Category">The recorded subject label; only the category baseline reads it.</param>
/// <param name="PromptChars">Characters of the prompt.</param>
/// <param name="AnswerOptions">Number of answer options.</param>
/// <param name="Candidates">Every placement with its predicted cost for this query; expert indices follow the environment's pool.</param>
/// <param name="Budget">Budgets and k.</param>
/// <param name="Embedding">The question's sentence embedding, when the host computed one.</param>
public sealed record RoutingQuery(
    int QuestionId,
    string Text,
    string Category,
    int PromptChars,
    int AnswerOptions,
    PlanningCandidate[] Candidates,
    SelectionBudget Budget,
    float[]? Embedding = null);

/// <summary>A router's decision for one query.</summary>
/// <param name="Plan">Responders, weights and predicted cost (for a cascade, the cost when every stage runs).</param>
/// <param name="Combination">How the answers are combined.</param>
/// <param name="AggregatorExpert">The aggregator's expert index when <see cref="AnswerCombination.Aggregator"/>.</param>
/// <param name="Cascade">When set, the plan runs in two stages: the rest only when the first stage disagrees.</param>
public sealed record PolicyDecision(RoutingPlan Plan, AnswerCombination Combination = AnswerCombination.Vote, int? AggregatorExpert = null, CascadeStage? Cascade = null);

/// <summary>The first stage of a cascade: the plan's first <paramref name="Responders"/> responders and what they alone cost.</summary>
public sealed record CascadeStage(int Responders, double LatencyMs, double EnergyJoules);

/// <summary>A fitted router, as the evaluator runs it.</summary>
public interface IRoutingPolicy
{
    /// <summary>The router's name in reports.</summary>
    string Name { get; }

    /// <summary>True when the router keeps plans inside the budgets whenever it can.</summary>
    bool BudgetAware { get; }

    /// <summary>Decides which experts answer <paramref name="query"/>.</summary>
    PolicyDecision Decide(RoutingQuery query);
}

/// <summary>Builds plans for routers that pick their experts without a budgeted search.</summary>
public static class FixedPlans
{
    /// <summary>A plan running <paramref name="chosen"/> (candidate indices) with the given vote weights; feasibility is checked against the budgets.</summary>
    public static RoutingPlan Create(RoutingQuery query, IReadOnlyList<int> chosen, IReadOnlyList<double> weights, IReadOnlyList<string> experts, string rationale)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(chosen);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(experts);
        if (chosen.Count == 0 || chosen.Count != weights.Count)
        {
            throw new ArgumentException("a plan needs at least one responder and one weight per responder", nameof(chosen));
        }

        var items = new PlanItem[chosen.Count];
        var responders = new PlannedResponder[chosen.Count];
        for (var r = 0; r < chosen.Count; r++)
        {
            var candidate = query.Candidates[chosen[r]];
            items[r] = new PlanItem(candidate.Device, candidate.LatencyMs, candidate.EnergyJoules);
            responders[r] = new PlannedResponder(chosen[r], candidate.Expert, experts[candidate.Expert], weights[r], weights[r]);
        }

        var cost = PlanCostCalculator.Compute(items);
        var overLatency = query.Budget.LatencyMs is { } l && cost.LatencyMs > l;
        var overEnergy = query.Budget.EnergyJoules is { } j && cost.EnergyJoules > j;
        return new RoutingPlan
        {
            Feasible = !overLatency && !overEnergy,
            Binding = (overLatency, overEnergy) switch
            {
                (true, true) => BindingBudget.LatencyAndEnergy,
                (true, false) => BindingBudget.Latency,
                (false, true) => BindingBudget.Energy,
                _ => BindingBudget.None,
            },
            Responders = responders,
            LatencyMs = cost.LatencyMs,
            EnergyJoules = cost.EnergyJoules,
            Rationale = rationale,
        };
    }

    /// <summary>The cheapest placement of <paramref name="expert"/>, or -1 when the expert is not among the query's candidates (unavailable).</summary>
    public static int TryCheapestPlacement(RoutingQuery query, int expert)
    {
        ArgumentNullException.ThrowIfNull(query);
        foreach (var c in query.Candidates)
        {
            if (c.Expert == expert)
            {
                return CheapestPlacement(query, expert);
            }
        }

        return -1;
    }

    /// <summary>The cheapest placement (lowest energy, then latency) of <paramref name="expert"/> among the query's candidates.</summary>
    public static int CheapestPlacement(RoutingQuery query, int expert)
    {
        ArgumentNullException.ThrowIfNull(query);
        var best = -1;
        for (var i = 0; i < query.Candidates.Length; i++)
        {
            var c = query.Candidates[i];
            if (c.Expert != expert)
            {
                continue;
            }

            if (best < 0
                || c.EnergyJoules < query.Candidates[best].EnergyJoules
                || (c.EnergyJoules == query.Candidates[best].EnergyJoules && c.LatencyMs < query.Candidates[best].LatencyMs))
            {
                best = i;
            }
        }

        return best >= 0 ? best : throw new ArgumentOutOfRangeException(nameof(expert), expert, "the expert has no candidate placement");
    }
}

/// <summary>MoE²: trained gate, exact budgeted subset search, gate-weighted vote; <paramref name="maxExperts"/> caps k below the budget's.</summary>
public sealed class Moe2Policy(Moe2Planner planner, string name = "moe2", int? maxExperts = null) : IRoutingPolicy
{
    /// <inheritdoc />
    public string Name { get; } = name;

    /// <summary>The most experts this router runs, whatever the budget allows; null to follow the budget.</summary>
    public int? MaxExperts { get; } = maxExperts;

    /// <inheritdoc />
    public bool BudgetAware => true;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var budget = MaxExperts is { } k ? query.Budget with { MaxExperts = Math.Min(k, query.Budget.MaxExperts) } : query.Budget;
        return new PolicyDecision(planner.Plan(new GateQuery(query.Text, null, query.Embedding), query.Candidates, budget, answerOptions: query.AnswerOptions));
    }
}

/// <summary>MoE² with adaptive compute: k per query from the gate's confidence, inside the budgets.</summary>
public sealed class AdaptiveMoe2Policy(Moe2Planner planner, AdaptiveK adaptive, string name = "moe2-adaptive") : IRoutingPolicy
{
    /// <inheritdoc />
    public string Name { get; } = name;

    /// <summary>The thresholds chosen on the training split.</summary>
    public AdaptiveK Adaptive { get; } = adaptive ?? throw new ArgumentNullException(nameof(adaptive));

    /// <inheritdoc />
    public bool BudgetAware => true;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new PolicyDecision(planner.PlanAdaptive(new GateQuery(query.Text, null, query.Embedding), query.Candidates, query.Budget, Adaptive, query.AnswerOptions));
    }
}

/// <summary>
/// MoE² as a cascade: the exact budgeted search picks up to k experts as usual; the two cheapest of
/// them answer first, and the others are asked only when those two disagree (agreeing cheap experts
/// are rarely both wrong). The plan is checked against the budgets with every stage run one after
/// the other; when that would break the latency budget, all run at once as in MoE².
/// </summary>
public sealed class CascadeMoe2Policy(Moe2Planner planner, string name = "moe2-cascade") : IRoutingPolicy
{
    private const int FirstStage = 2;

    /// <inheritdoc />
    public string Name { get; } = name;

    /// <inheritdoc />
    public bool BudgetAware => true;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var plan = planner.Plan(new GateQuery(query.Text, null, query.Embedding), query.Candidates, query.Budget, answerOptions: query.AnswerOptions);
        if (!plan.Feasible || plan.Responders.Count <= FirstStage)
        {
            return new PolicyDecision(plan);
        }

        var ordered = plan.Responders
            .OrderBy(r => query.Candidates[r.Candidate].EnergyJoules)
            .ThenBy(r => r.Candidate)
            .ToArray();
        var first = Cost(query, ordered.AsSpan(0, FirstStage));
        var rest = Cost(query, ordered.AsSpan(FirstStage));
        var latency = first.LatencyMs + rest.LatencyMs;
        if (query.Budget.LatencyMs is { } budget && latency > budget)
        {
            return new PolicyDecision(plan);
        }

        var cascade = plan with
        {
            Responders = ordered,
            LatencyMs = latency,
            Rationale = $"{plan.Rationale}; cascade: {ordered[0].ExpertId} and {ordered[1].ExpertId} first, the rest only if they disagree",
        };
        return new PolicyDecision(cascade, Cascade: new CascadeStage(FirstStage, first.LatencyMs, first.EnergyJoules));
    }

    private static PlanCost Cost(RoutingQuery query, ReadOnlySpan<PlannedResponder> responders)
    {
        Span<PlanItem> items = stackalloc PlanItem[responders.Length];
        for (var r = 0; r < responders.Length; r++)
        {
            var c = query.Candidates[responders[r].Candidate];
            items[r] = new PlanItem(c.Device, c.LatencyMs, c.EnergyJoules);
        }

        return PlanCostCalculator.Compute(items);
    }
}
