using System.Globalization;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Selection;

/// <summary>
/// Exact budgeted subset selection (the coarse level of MoE²): among all sets of at most k
/// candidates whose plan meets the latency and energy budgets, finds one of the highest quality.
/// </summary>
/// <remarks>
/// <para>
/// Branch and bound over candidates sorted by quality. Plan latency (slowest device path plus the
/// combine step) and energy (a sum) only grow when a candidate is added, so a candidate that makes
/// the current set infeasible is never added below it: every superset of an infeasible set is
/// pruned. Set quality only grows too, and the best completion of a set is bounded by adding the
/// next best qualities, so a subtree whose optimistic quality cannot beat the incumbent is cut
/// (and, qualities being sorted, so are all later siblings). The vote-accuracy objective is not
/// monotone; it is bounded by the chance that any member is right, which is, so the cut stays exact.
/// </para>
/// <para>Stateless and allocation-light (work buffers live on the stack): safe to call from many threads.</para>
/// </remarks>
public static class BudgetedSubsetSelector
{
    /// <summary>The most candidates one search takes (devices and groups are bit positions too).</summary>
    public const int MaxCandidates = 64;

    private const double MaxProbability = 1 - 1e-12;

    // Rounding headroom, so that a bound equal to the incumbent up to rounding never cuts a better set.
    private const double BoundSlack = 1e-9;

    /// <summary>Finds the best feasible set, or says why none exists. Invalid costs or budgets throw <see cref="ArgumentException"/>.</summary>
    public static SubsetSelection Select(ReadOnlySpan<SelectionCandidate> candidates, SelectionBudget budget, PlanOverheads? overheads = null)
    {
        ArgumentNullException.ThrowIfNull(budget);
        overheads ??= PlanOverheads.None;
        Validate(candidates, budget, overheads);

        var n = candidates.Length;
        var latencyLimit = budget.LatencyMs ?? double.PositiveInfinity;
        var energyLimit = budget.EnergyJoules ?? double.PositiveInfinity;
        Span<double> utility = stackalloc double[n];
        Span<double> weight = stackalloc double[n];
        Span<int> order = stackalloc int[n];
        var feasibleAlone = 0;
        for (var i = 0; i < n; i++)
        {
            var c = candidates[i];
            utility[i] = budget.Objective == SubsetObjective.ExpectedCorrect ? c.Quality : -Math.Log(1 - Math.Min(c.Quality, MaxProbability));
            weight[i] = budget.Objective == SubsetObjective.VoteAccuracy ? Gating.WeightedVote.WeightFromProbability(c.Quality, budget.AnswerOptions) : 0;

            // A candidate over budget on its own is over budget in every set.
            if (overheads.PathLatency(c.Device) + c.LatencyMs <= latencyLimit && c.EnergyJoules <= energyLimit)
            {
                order[feasibleAlone++] = i;
            }
        }

        if (feasibleAlone == 0)
        {
            return InfeasibleBudgetExplainer.Explain(candidates, latencyLimit, energyLimit, overheads);
        }

        var m = feasibleAlone;
        order = order[..m];
        SortByUtilityDescending(order, utility, candidates);
        Span<double> prefix = stackalloc double[m + 1];
        for (var p = 0; p < m; p++)
        {
            prefix[p + 1] = prefix[p] + utility[order[p]];
        }

        var k = Math.Min(budget.MaxExperts, m);
        Span<double> paths = stackalloc double[MaxCandidates];
        Span<int> pathUse = stackalloc int[MaxCandidates];
        Span<double> pathOverhead = stackalloc double[MaxCandidates];
        for (var d = 0; d < MaxCandidates; d++)
        {
            pathOverhead[d] = overheads.PathLatency(d);
        }

        Span<int> chosen = stackalloc int[k];
        Span<int> best = stackalloc int[k];
        Span<double> voteProbabilities = stackalloc double[k];
        Span<double> voteWeights = stackalloc double[k];
        var search = new SubsetSearch(candidates, utility, weight, order, prefix, paths, pathUse, pathOverhead, chosen, best, voteProbabilities, voteWeights)
        {
            Objective = budget.Objective,
            Coincidence = budget.VoteCoincidence,
            MaxExperts = k,
            LatencyLimit = latencyLimit,
            EnergyLimit = energyLimit,
            CombineLatency = overheads.CombineLatencyMs,
            CombineEnergy = overheads.CombineEnergyJoules,
            BestQuality = double.NegativeInfinity,
        };
        Expand(ref search, 0, 0, 0, 0, 0, 0);

        var picked = search.Best[..search.BestCount].ToArray();
        return new SubsetSelection
        {
            Feasible = true,
            Chosen = picked,
            Quality = search.BestQuality,
            LatencyMs = search.BestLatency,
            EnergyJoules = search.BestEnergy,
            NodesVisited = search.Nodes,
        };
    }

    /// <summary>The set quality of <paramref name="chosen"/> under the budget's objective (for checks and explanations).</summary>
    public static double SetQuality(ReadOnlySpan<SelectionCandidate> candidates, IReadOnlyList<int> chosen, SelectionBudget budget)
    {
        ArgumentNullException.ThrowIfNull(chosen);
        ArgumentNullException.ThrowIfNull(budget);
        if (budget.Objective == SubsetObjective.VoteAccuracy)
        {
            var probabilities = new double[chosen.Count];
            var weights = new double[chosen.Count];
            for (var r = 0; r < chosen.Count; r++)
            {
                probabilities[r] = candidates[chosen[r]].Quality;
                weights[r] = Gating.WeightedVote.WeightFromProbability(probabilities[r], budget.AnswerOptions);
            }

            return VoteAccuracy.Expected(probabilities, weights, budget.VoteCoincidence);
        }

        var sum = 0.0;
        foreach (var i in chosen)
        {
            var q = candidates[i].Quality;
            sum += budget.Objective == SubsetObjective.AnyCorrect ? -Math.Log(1 - Math.Min(q, MaxProbability)) : q;
        }

        return budget.Objective == SubsetObjective.AnyCorrect ? 1 - Math.Exp(-sum) : sum;
    }

    private static void Expand(ref SubsetSearch s, int start, int count, double quality, double energy, double maxPath, ulong groups)
    {
        s.Nodes++;
        if (count == s.MaxExperts)
        {
            return;
        }

        var remaining = s.MaxExperts - count;
        var m = s.Order.Length;
        for (var pos = start; pos < m; pos++)
        {
            // Optimistic quality: this set plus the best qualities still available.
            var end = Math.Min(pos + remaining, m);
            if (s.Bound(quality + s.Prefix[end] - s.Prefix[pos]) + BoundSlack <= s.BestQuality)
            {
                break;
            }

            var i = s.Order[pos];
            var candidate = s.Candidates[i];
            var groupBit = candidate.Group >= 0 ? 1UL << candidate.Group : 0;
            if ((groups & groupBit) != 0)
            {
                continue;
            }

            var device = candidate.Device;
            var path = (s.PathUse[device] == 0 ? s.PathOverhead[device] : s.Paths[device]) + candidate.LatencyMs;
            var newMax = Math.Max(maxPath, path);
            var newCount = count + 1;
            var newEnergy = energy + candidate.EnergyJoules;
            var planLatency = newMax + (newCount >= 2 ? s.CombineLatency : 0);
            var planEnergy = newEnergy + (newCount >= 2 ? s.CombineEnergy : 0);
            if (planLatency > s.LatencyLimit || planEnergy > s.EnergyLimit)
            {
                // Monotone costs: no superset of this set can be feasible either.
                continue;
            }

            var newQuality = quality + s.Utility[i];
            s.Chosen[count] = i;
            var value = s.Value(newQuality, newCount);
            if (value > s.BestQuality)
            {
                s.BestQuality = value;
                s.BestCount = newCount;
                s.BestLatency = planLatency;
                s.BestEnergy = planEnergy;
                s.Chosen[..newCount].CopyTo(s.Best);
            }

            var savedPath = s.Paths[device];
            s.Paths[device] = path;
            s.PathUse[device]++;
            Expand(ref s, pos + 1, newCount, newQuality, newEnergy, newMax, groups | groupBit);
            s.PathUse[device]--;
            s.Paths[device] = savedPath;
        }
    }

    private static void Validate(ReadOnlySpan<SelectionCandidate> candidates, SelectionBudget budget, PlanOverheads overheads)
    {
        var problems = new List<string>(budget.Validate());
        problems.AddRange(overheads.Validate());
        if (candidates.IsEmpty)
        {
            problems.Add("there are no candidates; a plan needs at least one expert");
        }
        else if (candidates.Length > MaxCandidates)
        {
            problems.Add($"at most {MaxCandidates} candidates are supported, got {candidates.Length}");
        }

        for (var i = 0; i < candidates.Length && problems.Count < 20; i++)
        {
            var c = candidates[i];
            var quality = c.Quality;
            if (!double.IsFinite(quality) || quality < 0)
            {
                problems.Add($"candidate {i}: quality must be a finite number of zero or more, got {quality.ToString(CultureInfo.InvariantCulture)}");
            }
            else if (budget.Objective != SubsetObjective.ExpectedCorrect && quality > 1)
            {
                problems.Add($"candidate {i}: quality must be a probability (0 to 1) for the {budget.Objective} objective, got {quality.ToString(CultureInfo.InvariantCulture)}");
            }

            CostChecks.NonNegative(problems, $"candidate {i}: latency (ms)", c.LatencyMs);
            CostChecks.NonNegative(problems, $"candidate {i}: energy (J)", c.EnergyJoules);
            if (c.Device is < 0 or >= MaxCandidates)
            {
                problems.Add($"candidate {i}: device index must be between 0 and {MaxCandidates - 1}, got {c.Device}");
            }

            if (c.Group is < -1 or >= MaxCandidates)
            {
                problems.Add($"candidate {i}: group must be -1 (none) or between 0 and {MaxCandidates - 1}, got {c.Group}");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"cannot select experts: {string.Join("; ", problems)}", nameof(candidates));
        }
    }

    private static void SortByUtilityDescending(Span<int> order, ReadOnlySpan<double> utility, ReadOnlySpan<SelectionCandidate> candidates)
    {
        // Insertion sort: at most 64 items, stable, no allocation. Equal utilities (replicas of one
        // expert on different devices) go cheapest first, so the set found first among equals is the cheapest.
        for (var a = 1; a < order.Length; a++)
        {
            var item = order[a];
            var b = a - 1;
            while (b >= 0 && Before(item, order[b], utility, candidates))
            {
                order[b + 1] = order[b];
                b--;
            }

            order[b + 1] = item;
        }
    }

    private static bool Before(int x, int y, ReadOnlySpan<double> utility, ReadOnlySpan<SelectionCandidate> candidates)
    {
        if (utility[x] != utility[y])
        {
            return utility[x] > utility[y];
        }

        return candidates[x].LatencyMs != candidates[y].LatencyMs
            ? candidates[x].LatencyMs < candidates[y].LatencyMs
            : candidates[x].EnergyJoules < candidates[y].EnergyJoules;
    }
}
