using System.Globalization;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Selection;

/// <summary>When no set meets the budgets: which budget binds, the cheapest compromise and a message saying why.</summary>
internal static class InfeasibleBudgetExplainer
{
    internal static SubsetSelection Explain(ReadOnlySpan<SelectionCandidate> candidates, double latencyLimit, double energyLimit, PlanOverheads overheads)
    {
        var anyLatencyOk = false;
        var anyEnergyOk = false;
        var minLatency = double.PositiveInfinity;
        var minEnergy = double.PositiveInfinity;
        for (var i = 0; i < candidates.Length; i++)
        {
            var latency = overheads.PathLatency(candidates[i].Device) + candidates[i].LatencyMs;
            anyLatencyOk |= latency <= latencyLimit;
            anyEnergyOk |= candidates[i].EnergyJoules <= energyLimit;
            minLatency = Math.Min(minLatency, latency);
            minEnergy = Math.Min(minEnergy, candidates[i].EnergyJoules);
        }

        var binding = (anyLatencyOk, anyEnergyOk) switch
        {
            (false, true) => BindingBudget.Latency,
            (true, false) => BindingBudget.Energy,
            _ => BindingBudget.LatencyAndEnergy,
        };

        var cheapest = Cheapest(candidates, latencyLimit, energyLimit, overheads, binding);
        var cheapLatency = overheads.PathLatency(candidates[cheapest].Device) + candidates[cheapest].LatencyMs;
        var cheapEnergy = candidates[cheapest].EnergyJoules;
        var c = CultureInfo.InvariantCulture;
        var message = binding switch
        {
            BindingBudget.Latency => string.Format(c, "no plan meets the latency budget of {0:0.#} ms: the fastest plan takes {1:0.#} ms", latencyLimit, minLatency),
            BindingBudget.Energy => string.Format(c, "no plan meets the energy budget of {0:0.##} J: the most frugal plan uses {1:0.##} J", energyLimit, minEnergy),
            _ when !anyLatencyOk => string.Format(
                c,
                "no plan meets either budget: the fastest plan takes {0:0.#} ms (budget {1:0.#} ms) and the most frugal uses {2:0.##} J (budget {3:0.##} J)",
                minLatency,
                latencyLimit,
                minEnergy,
                energyLimit),
            _ => string.Format(
                c,
                "no single plan meets the latency budget of {0:0.#} ms and the energy budget of {1:0.##} J together; the cheapest compromise takes {2:0.#} ms and {3:0.##} J",
                latencyLimit,
                energyLimit,
                cheapLatency,
                cheapEnergy),
        };

        return new SubsetSelection
        {
            Feasible = false,
            Chosen = [],
            Infeasible = new InfeasibleBudget
            {
                Binding = binding,
                CheapestPlan = [cheapest],
                CheapestLatencyMs = cheapLatency,
                CheapestEnergyJoules = cheapEnergy,
                MinimumLatencyMs = minLatency,
                MinimumEnergyJoules = minEnergy,
                Message = message,
            },
        };
    }

    /// <summary>The single expert that overshoots the binding budget(s) the least: the cheapest plan.</summary>
    private static int Cheapest(ReadOnlySpan<SelectionCandidate> candidates, double latencyLimit, double energyLimit, PlanOverheads overheads, BindingBudget binding)
    {
        var cheapest = 0;
        var cheapestScore = double.PositiveInfinity;
        var cheapestTie = double.PositiveInfinity;
        for (var i = 0; i < candidates.Length; i++)
        {
            var latency = overheads.PathLatency(candidates[i].Device) + candidates[i].LatencyMs;
            var energy = candidates[i].EnergyJoules;
            var latencyRatio = double.IsPositiveInfinity(latencyLimit) ? 0 : latency / latencyLimit;
            var energyRatio = double.IsPositiveInfinity(energyLimit) ? 0 : energy / energyLimit;
            var (score, tie) = binding switch
            {
                BindingBudget.Latency => (latency, energy),
                BindingBudget.Energy => (energy, latency),
                _ => (Math.Max(latencyRatio, energyRatio), latencyRatio + energyRatio),
            };
            if (score < cheapestScore || (score == cheapestScore && tie < cheapestTie))
            {
                cheapest = i;
                cheapestScore = score;
                cheapestTie = tie;
            }
        }

        return cheapest;
    }
}
