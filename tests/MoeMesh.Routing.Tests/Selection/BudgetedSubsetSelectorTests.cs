using System.Numerics;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Selection;
using MoeMesh.Queries;

namespace MoeMesh.Routing.Tests.Selection;

public sealed class BudgetedSubsetSelectorTests
{
    [Fact]
    public void Equals_exhaustive_enumeration_on_thousands_of_random_instances()
    {
        var random = new Random(20250101);
        var feasibleSeen = 0;
        var infeasibleSeen = 0;
        for (var instance = 0; instance < 4000; instance++)
        {
            var (candidates, budget, overheads) = RandomInstance(random, maxCandidates: 16);
            var result = BudgetedSubsetSelector.Select(candidates, budget, overheads);
            var (bestQuality, anyFeasible) = BruteForce(candidates, budget, overheads);

            Assert.Equal(anyFeasible, result.Feasible);
            if (!anyFeasible)
            {
                infeasibleSeen++;
                Assert.NotNull(result.Infeasible);
                Assert.Empty(result.Chosen);
                continue;
            }

            feasibleSeen++;
            Assert.Null(result.Infeasible);
            Assert.InRange(result.Chosen.Count, 1, budget.MaxExperts);
            Assert.Equal(result.Chosen.Count, result.Chosen.Distinct().Count());
            var (latency, energy) = Cost(candidates, result.Chosen, overheads);
            Assert.True(latency <= (budget.LatencyMs ?? double.PositiveInfinity), $"instance {instance}: latency {latency} over {budget.LatencyMs}");
            Assert.True(energy <= (budget.EnergyJoules ?? double.PositiveInfinity), $"instance {instance}: energy {energy} over {budget.EnergyJoules}");
            Assert.True(GroupsDistinct(candidates, result.Chosen), $"instance {instance}: two replicas of one expert chosen");
            Assert.Equal(latency, result.LatencyMs, 9);
            Assert.Equal(energy, result.EnergyJoules, 9);
            var quality = BudgetedSubsetSelector.SetQuality(candidates, result.Chosen, budget);
            Assert.Equal(bestQuality, quality, 9);
            Assert.Equal(bestQuality, result.Quality, 9);
        }

        // The generator must exercise both outcomes for the comparison to mean something.
        Assert.True(feasibleSeen > 2000, $"only {feasibleSeen} feasible instances");
        Assert.True(infeasibleSeen > 50, $"only {infeasibleSeen} infeasible instances");
    }

    [Fact]
    public void The_vote_objective_prefers_one_strong_expert_to_a_pointless_pair()
    {
        // A pair's weighted vote is its heavier member's answer, so the pair of 0.5 and 0.3 is worth 0.5, less than the 0.6 expert alone.
        SelectionCandidate[] candidates = [new(0.6, 10, 80, 0), new(0.5, 10, 40, 1), new(0.3, 10, 40, 1)];
        var budget = new SelectionBudget { MaxExperts = 2, EnergyJoules = 85, Objective = SubsetObjective.VoteAccuracy };
        Assert.Equal([0], BudgetedSubsetSelector.Select(candidates, budget).Chosen);
        Assert.Equal([1, 2], BudgetedSubsetSelector.Select(candidates, budget with { Objective = SubsetObjective.ExpectedCorrect }).Chosen);
        Assert.Contains("at most 8", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select(candidates, budget with { MaxExperts = 9 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_budgets_picks_the_k_best_qualities()
    {
        SelectionCandidate[] candidates = [new(0.2, 10, 1, 0), new(0.9, 10, 1, 0), new(0.5, 10, 1, 1), new(0.7, 10, 1, 1)];
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { MaxExperts = 2 });
        Assert.True(result.Feasible);
        Assert.Equal([1, 3], result.Chosen);
    }

    [Fact]
    public void Experts_on_one_device_run_one_after_another_and_on_different_devices_in_parallel()
    {
        // Two 600 ms experts fit a 1 s budget only when they are on different devices.
        SelectionCandidate[] sameDevice = [new(0.9, 600, 1, 0), new(0.8, 600, 1, 0), new(0.1, 100, 1, 1)];
        var shared = BudgetedSubsetSelector.Select(sameDevice, new SelectionBudget { MaxExperts = 2, LatencyMs = 1000 });
        Assert.Equal([0, 2], shared.Chosen);

        SelectionCandidate[] twoDevices = [new(0.9, 600, 1, 0), new(0.8, 600, 1, 1), new(0.1, 100, 1, 1)];
        var parallel = BudgetedSubsetSelector.Select(twoDevices, new SelectionBudget { MaxExperts = 2, LatencyMs = 1000 });
        Assert.Equal([0, 1], parallel.Chosen);
        Assert.Equal(600, parallel.LatencyMs);
    }

    [Fact]
    public void Replicas_of_one_expert_are_never_chosen_together()
    {
        SelectionCandidate[] candidates = [new(0.9, 10, 1, 0, Group: 0), new(0.9, 5, 1, 1, Group: 0), new(0.3, 10, 1, 1, Group: 1)];
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { MaxExperts = 3 });
        Assert.Equal(2, result.Chosen.Count);
        Assert.Contains(2, result.Chosen);
    }

    [Fact]
    public void Energy_budget_no_plan_can_meet_is_reported_with_the_cheapest_plan()
    {
        SelectionCandidate[] candidates = [new(0.9, 100, 50, 0), new(0.5, 300, 20, 1), new(0.4, 50, 30, 1)];
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { MaxExperts = 2, EnergyJoules = 10, LatencyMs = 1000 });
        Assert.False(result.Feasible);
        Assert.Empty(result.Chosen);
        var why = Assert.IsType<InfeasibleBudget>(result.Infeasible);
        Assert.Equal(BindingBudget.Energy, why.Binding);
        Assert.Equal([1], why.CheapestPlan);
        Assert.Equal(20, why.MinimumEnergyJoules);
        Assert.Equal(20, why.CheapestEnergyJoules);
        Assert.Contains("energy budget", why.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Latency_budget_no_plan_can_meet_names_latency_and_the_fastest_plan()
    {
        SelectionCandidate[] candidates = [new(0.9, 100, 50, 0), new(0.5, 300, 20, 1), new(0.4, 80, 30, 1)];
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { LatencyMs = 50, EnergyJoules = 100 });
        var why = Assert.IsType<InfeasibleBudget>(result.Infeasible);
        Assert.Equal(BindingBudget.Latency, why.Binding);
        Assert.Equal([2], why.CheapestPlan);
        Assert.Equal(80, why.MinimumLatencyMs);
        Assert.Contains("latency budget", why.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Budgets_each_reachable_but_never_together_bind_jointly()
    {
        // One expert is fast but hungry, the other frugal but slow.
        SelectionCandidate[] candidates = [new(0.9, 10, 100, 0), new(0.5, 1000, 1, 1)];
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { LatencyMs = 100, EnergyJoules = 10 });
        var why = Assert.IsType<InfeasibleBudget>(result.Infeasible);
        Assert.Equal(BindingBudget.LatencyAndEnergy, why.Binding);
        Assert.Single(why.CheapestPlan);
    }

    [Fact]
    public void Device_path_and_combine_overheads_count()
    {
        SelectionCandidate[] candidates = [new(0.9, 100, 10, 0), new(0.8, 100, 10, 1)];
        var overheads = new PlanOverheads { CombineLatencyMs = 50, CombineEnergyJoules = 5, DevicePathLatencyMs = [0, 20] };
        var result = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { MaxExperts = 2 }, overheads);
        Assert.Equal(170, result.LatencyMs, 9);
        Assert.Equal(25, result.EnergyJoules, 9);

        var tight = BudgetedSubsetSelector.Select(candidates, new SelectionBudget { MaxExperts = 2, LatencyMs = 160 }, overheads);
        Assert.Equal([0], tight.Chosen);
    }

    [Theory]
    [InlineData(double.NaN, 1, 1, "quality")]
    [InlineData(0.5, double.NaN, 1, "NaN")]
    [InlineData(0.5, -1, 1, "negative")]
    [InlineData(0.5, 1, double.PositiveInfinity, "infinite")]
    [InlineData(-0.1, 1, 1, "quality")]
    public void Invalid_costs_and_qualities_are_rejected_with_the_candidate_named(double quality, double latency, double energy, string expected)
    {
        SelectionCandidate[] candidates = [new(0.3, 1, 1, 0), new(quality, latency, energy, 0)];
        var error = Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select(candidates, new SelectionBudget()));
        Assert.Contains("candidate 1", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_candidates_and_bad_budgets_are_rejected()
    {
        Assert.Contains("no candidates", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select([], new SelectionBudget())).Message, StringComparison.Ordinal);
        SelectionCandidate[] one = [new(0.5, 1, 1, 0)];
        Assert.Contains("latency budget", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select(one, new SelectionBudget { LatencyMs = -5 })).Message, StringComparison.Ordinal);
        Assert.Contains("energy budget", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select(one, new SelectionBudget { EnergyJoules = double.NaN })).Message, StringComparison.Ordinal);
        Assert.Contains("(k)", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select(one, new SelectionBudget { MaxExperts = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("probability", Assert.Throws<ArgumentException>(() => BudgetedSubsetSelector.Select([new(1.5, 1, 1, 0)], new SelectionBudget { Objective = SubsetObjective.AnyCorrect })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Handles_29_experts_with_both_budgets_and_large_k()
    {
        var random = new Random(29);
        for (var run = 0; run < 50; run++)
        {
            var candidates = Enumerable.Range(0, 29)
                .Select(i => new SelectionCandidate(random.NextDouble(), 500 + (random.NextDouble() * 20_000), 50 + (random.NextDouble() * 2000), random.Next(3)))
                .ToArray();
            var budget = new SelectionBudget { MaxExperts = 1 + random.Next(29), LatencyMs = 10_000 + (random.NextDouble() * 30_000), EnergyJoules = 500 + (random.NextDouble() * 5000) };
            var result = BudgetedSubsetSelector.Select(candidates, budget);
            Assert.True(result.Feasible);
            var (latency, energy) = Cost(candidates, result.Chosen, PlanOverheads.None);
            Assert.True(latency <= budget.LatencyMs && energy <= budget.EnergyJoules);

            // Pruning means far fewer nodes than subsets.
            Assert.True(result.NodesVisited < 1 << 29);
        }
    }

    internal static (SelectionCandidate[] Candidates, SelectionBudget Budget, PlanOverheads Overheads) RandomInstance(Random random, int maxCandidates)
    {
        var n = 1 + random.Next(maxCandidates);
        var devices = 1 + random.Next(4);
        var groups = random.NextDouble() < 0.3 ? Math.Max(1, n - random.Next(n)) : 0;
        var candidates = new SelectionCandidate[n];
        for (var i = 0; i < n; i++)
        {
            // Round figures make exact ties likely, which the comparison must survive too.
            var quality = random.NextDouble() < 0.2 ? Math.Round(random.NextDouble(), 1) : random.NextDouble();
            candidates[i] = new SelectionCandidate(
                quality,
                Math.Round(10 + (random.NextDouble() * 990), random.Next(3)),
                Math.Round(1 + (random.NextDouble() * 99), random.Next(3)),
                random.Next(devices),
                groups > 0 ? random.Next(groups) : -1);
        }

        var totalLatency = candidates.Sum(c => c.LatencyMs);
        var totalEnergy = candidates.Sum(c => c.EnergyJoules);
        var budget = new SelectionBudget
        {
            MaxExperts = 1 + random.Next(Math.Min(n, 8)),
            LatencyMs = random.NextDouble() < 0.8 ? 5 + (random.NextDouble() * totalLatency * 0.6) : null,
            EnergyJoules = random.NextDouble() < 0.8 ? 1 + (random.NextDouble() * totalEnergy * 0.6) : null,
            Objective = (SubsetObjective)random.Next(3),
            VoteCoincidence = random.NextDouble(),
            AnswerOptions = 2 + random.Next(9),
        };
        var overheads = random.NextDouble() < 0.5
            ? PlanOverheads.None
            : new PlanOverheads
            {
                CombineLatencyMs = random.NextDouble() * 100,
                CombineEnergyJoules = random.NextDouble() * 10,
                DevicePathLatencyMs = Enumerable.Range(0, devices).Select(_ => random.NextDouble() * 20).ToArray(),
            };
        return (candidates, budget, overheads);
    }

    /// <summary>The best set quality over every feasible subset, and whether any exists: plain enumeration of all 2^n sets.</summary>
    internal static (double BestQuality, bool AnyFeasible) BruteForce(SelectionCandidate[] candidates, SelectionBudget budget, PlanOverheads overheads)
    {
        var best = double.NegativeInfinity;
        var any = false;
        var latencyLimit = budget.LatencyMs ?? double.PositiveInfinity;
        var energyLimit = budget.EnergyJoules ?? double.PositiveInfinity;
        var paths = new double[64];
        var used = new bool[64];
        for (var mask = 1; mask < 1 << candidates.Length; mask++)
        {
            var count = BitOperations.PopCount((uint)mask);
            if (count > budget.MaxExperts)
            {
                continue;
            }

            Array.Clear(paths);
            Array.Clear(used);
            var groups = 0UL;
            var clash = false;
            var energy = 0.0;
            var sum = 0.0;
            var members = new List<int>();
            for (var i = 0; i < candidates.Length; i++)
            {
                if ((mask & (1 << i)) == 0)
                {
                    continue;
                }

                var c = candidates[i];
                if (c.Group >= 0)
                {
                    clash |= (groups & (1UL << c.Group)) != 0;
                    groups |= 1UL << c.Group;
                }

                members.Add(i);
                paths[c.Device] += c.LatencyMs;
                used[c.Device] = true;
                energy += c.EnergyJoules;
                sum += budget.Objective == SubsetObjective.AnyCorrect ? -Math.Log(1 - Math.Min(c.Quality, 1 - 1e-12)) : c.Quality;
            }

            if (clash)
            {
                continue;
            }

            var latency = 0.0;
            for (var d = 0; d < paths.Length; d++)
            {
                if (used[d])
                {
                    latency = Math.Max(latency, paths[d] + overheads.PathLatency(d));
                }
            }

            if (count >= 2)
            {
                latency += overheads.CombineLatencyMs;
                energy += overheads.CombineEnergyJoules;
            }

            if (latency > latencyLimit || energy > energyLimit)
            {
                continue;
            }

            any = true;
            var value = budget.Objective switch
            {
                SubsetObjective.ExpectedCorrect => sum,
                SubsetObjective.AnyCorrect => 1 - Math.Exp(-sum),
                _ => BudgetedSubsetSelector.SetQuality(candidates, members, budget),
            };
            best = Math.Max(best, value);
        }

        return (best, any);
    }

    private static (double Latency, double Energy) Cost(SelectionCandidate[] candidates, IReadOnlyList<int> chosen, PlanOverheads overheads)
    {
        var cost = PlanCostCalculator.Compute(chosen.Select(i => new PlanItem(candidates[i].Device, candidates[i].LatencyMs, candidates[i].EnergyJoules)).ToArray(), overheads);
        return (cost.LatencyMs, cost.EnergyJoules);
    }

    private static bool GroupsDistinct(SelectionCandidate[] candidates, IReadOnlyList<int> chosen)
    {
        var groups = chosen.Select(i => candidates[i].Group).Where(g => g >= 0).ToArray();
        return groups.Length == groups.Distinct().Count();
    }
}
