using System.Globalization;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;

namespace MoeMesh.Routing.Selection;

/// <summary>
/// MoE² routing for one query: the gate scores every expert's chance of being right, the exact
/// budgeted search picks the best set of at most k runs that meets the latency and energy budgets,
/// and the chosen experts' answers are combined by a gate-weighted vote.
/// </summary>
/// <remarks>
/// The paper's two levels are a coarse subset under the budgets and a fine per-prompt top-k within
/// it. With per-query budgets the search runs per query, so the subset it returns already holds at
/// most k experts and the fine level's job is the ordering and the vote weights; because the gate
/// scores each expert independently, restricting it to any subset needs no retraining.
/// Thread-safe when the gate is (the trained gates are).
/// </remarks>
public sealed class Moe2Planner
{
    /// <summary>
    /// Creates a planner over <paramref name="gate"/>. With <see cref="SubsetObjective.VoteAccuracy"/>,
    /// <paramref name="voteCoincidence"/> is the chance that wrong experts agree (see
    /// <see cref="VoteCalibration.WrongAnswerCoincidence"/>); plans of more than
    /// <see cref="VoteAccuracy.MaxVoters"/> experts then maximise the expected number of right answers instead.
    /// </summary>
    public Moe2Planner(IQualityEstimator gate, SubsetObjective objective = SubsetObjective.ExpectedCorrect, double voteCoincidence = 0.3)
    {
        Gate = gate ?? throw new ArgumentNullException(nameof(gate));
        if (!Enum.IsDefined(objective))
        {
            throw new ArgumentOutOfRangeException(nameof(objective), objective, "unknown objective");
        }

        if (!double.IsFinite(voteCoincidence) || voteCoincidence < 0 || voteCoincidence > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(voteCoincidence), voteCoincidence, "the vote coincidence must be a probability");
        }

        Objective = objective;
        VoteCoincidence = voteCoincidence;
    }

    /// <summary>The chance that wrong experts give the same wrong answer, for the vote objective.</summary>
    public double VoteCoincidence { get; }

    /// <summary>The gate scoring experts.</summary>
    public IQualityEstimator Gate { get; }

    /// <summary>How set quality is formed.</summary>
    public SubsetObjective Objective { get; }

    /// <summary>Plans <paramref name="query"/> over <paramref name="candidates"/> (expert indices follow the gate's expert list).</summary>
    public RoutingPlan Plan(
        GateQuery query,
        ReadOnlySpan<PlanningCandidate> candidates,
        SelectionBudget budget,
        PlanOverheads? overheads = null,
        int answerOptions = 10)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(budget);
        var experts = Gate.Experts.Count;
        var quality = new double[experts];
        Gate.Estimate(query, quality);
        var objective = Objective == SubsetObjective.VoteAccuracy && budget.MaxExperts > VoteAccuracy.MaxVoters ? SubsetObjective.ExpectedCorrect : Objective;
        var search = budget with { Objective = objective, VoteCoincidence = VoteCoincidence, AnswerOptions = Math.Max(2, answerOptions) };
        return PlanWithQuality(quality, candidates, search, overheads, answerOptions, Gate.Experts);
    }

    /// <summary>Selects and weights runs given each expert's quality (shared by the planners).</summary>
    /// <summary>
    /// Plans with k chosen per query by <paramref name="adaptive"/> from the gate's confidence in its
    /// best expert (never more than the budget's k), then the same exact budgeted search.
    /// </summary>
    public RoutingPlan PlanAdaptive(GateQuery query, ReadOnlySpan<PlanningCandidate> candidates, SelectionBudget budget, AdaptiveK adaptive, int answerOptions = 10)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(adaptive);
        var quality = new double[Gate.Experts.Count];
        Gate.Estimate(query, quality);
        var confidence = 0.0;
        foreach (var c in candidates)
        {
            if ((uint)c.Expert < (uint)quality.Length)
            {
                confidence = Math.Max(confidence, quality[c.Expert]);
            }
        }

        var k = adaptive.ExpertsFor(confidence, budget.MaxExperts);
        var search = budget with { MaxExperts = k, Objective = SubsetObjective.ExpectedCorrect, AnswerOptions = Math.Max(2, answerOptions) };
        var plan = PlanWithQuality(quality, candidates, search, null, answerOptions, Gate.Experts);
        return plan with { Rationale = $"{plan.Rationale}; k = {k} for gate confidence {confidence:0.###}" };
    }

    internal static RoutingPlan PlanWithQuality(
        double[] quality,
        ReadOnlySpan<PlanningCandidate> candidates,
        SelectionBudget budget,
        PlanOverheads? overheads,
        int answerOptions,
        IReadOnlyList<string> expertIds,
        Func<int, double>? weightOf = null)
    {
        var experts = quality.Length;
        Span<SelectionCandidate> selection = candidates.Length <= 64 ? stackalloc SelectionCandidate[candidates.Length] : new SelectionCandidate[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            if ((uint)c.Expert >= (uint)experts)
            {
                throw new ArgumentException($"candidate {i} names expert {c.Expert}, but there are {experts} experts", nameof(candidates));
            }

            // Replicas of one expert share a group so the plan never runs an expert twice.
            selection[i] = new SelectionCandidate(quality[c.Expert], c.LatencyMs, c.EnergyJoules, c.Device, c.Expert < BudgetedSubsetSelector.MaxCandidates ? c.Expert : -1);
        }

        var result = BudgetedSubsetSelector.Select(selection, budget, overheads);
        var chosen = result.Feasible ? result.Chosen : result.Infeasible!.CheapestPlan;
        var responders = new PlannedResponder[chosen.Count];
        for (var r = 0; r < chosen.Count; r++)
        {
            var expert = candidates[chosen[r]].Expert;
            var weight = weightOf?.Invoke(expert) ?? WeightedVote.WeightFromProbability(Math.Clamp(quality[expert], 0, 1), answerOptions);
            responders[r] = new PlannedResponder(chosen[r], expert, expertIds[expert], quality[expert], weight);
        }

        Array.Sort(responders, static (a, b) => a.Quality != b.Quality ? b.Quality.CompareTo(a.Quality) : a.Candidate.CompareTo(b.Candidate));
        Span<PlanItem> items = stackalloc PlanItem[responders.Length];
        for (var r = 0; r < responders.Length; r++)
        {
            var run = candidates[responders[r].Candidate];
            items[r] = new PlanItem(run.Device, run.LatencyMs, run.EnergyJoules);
        }

        var cost = PlanCostCalculator.Compute(items, overheads);
        var culture = CultureInfo.InvariantCulture;
        var rationale = result.Feasible
            ? string.Format(
                culture,
                "{0} of {1} candidates chosen for the highest expected quality ({2:0.###}) within the budgets; predicted {3:0} ms and {4:0.#} J",
                responders.Length,
                candidates.Length,
                result.Quality,
                cost.LatencyMs,
                cost.EnergyJoules)
            : result.Infeasible!.Message + "; returning the cheapest plan instead";
        return new RoutingPlan
        {
            Feasible = result.Feasible,
            Binding = result.Infeasible?.Binding ?? BindingBudget.None,
            Responders = responders,
            LatencyMs = cost.LatencyMs,
            EnergyJoules = cost.EnergyJoules,
            Quality = result.Quality,
            ExpertQuality = quality,
            Infeasible = result.Infeasible,
            Rationale = rationale,
            NodesVisited = result.NodesVisited,
        };
    }
}
