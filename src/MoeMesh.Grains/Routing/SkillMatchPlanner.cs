using System.Diagnostics;
using System.Globalization;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// The router's simple policy: score each available expert by how many of its manifest skills
/// appear in the question, order by the strategy (best match, fastest or cheapest), and take up
/// to k experts whose predicted plan fits the budgets. When nothing fits, the plan is the
/// cheapest possible one, marked infeasible with the binding budget.
/// </summary>
public sealed class SkillMatchPlanner(IExpertCostEstimator costs) : IQueryPlanner
{
    public ValueTask<QueryPlan> PlanAsync(Query query, CatalogSnapshot catalog, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var options = PlanCandidates.Find(query, catalog);
        if (options.Count == 0)
        {
            throw new ExpertUnavailableException(catalog.Silos.Any(s => s.State == SiloState.Active)
                ? "No expert can serve: no active silo can host any expert in the catalog."
                : "No expert can serve: no silo is active.");
        }

        var words = Words(query.Question);
        var promptTokens = ExpertPrompt.EstimateTokens(query);
        var scored = options
            .Select(o =>
            {
                var cost = costs.Predict(o.Manifest, o.Silo.Device, promptTokens, query.Options.MaxTokens, o.Resident);
                var matched = o.Manifest.Skills.Where(s => Matches(words, s)).ToList();
                var score = o.Manifest.Skills.Count == 0 ? 0 : matched.Count / (double)o.Manifest.Skills.Count;
                return (Option: o, Cost: cost, Score: score, Matched: matched);
            })
            .ToList();

        var ordered = (query.Options.Strategy switch
        {
            RoutingStrategy.Fastest => scored.OrderBy(s => s.Cost.LatencyMs).ThenByDescending(s => s.Score),
            RoutingStrategy.Cheapest => scored.OrderBy(s => s.Cost.EnergyJoules).ThenByDescending(s => s.Score),
            _ => scored.OrderByDescending(s => s.Score).ThenBy(s => s.Cost.LatencyMs),
        }).ThenBy(s => s.Option.Manifest.Id, StringComparer.Ordinal).ToList();

        var k = query.Options.K ?? (query.Options.Strategy is RoutingStrategy.Symbolic or RoutingStrategy.Moe2 ? 3 : 1);
        var latencyBudget = query.Options.LatencyBudgetMs ?? double.PositiveInfinity;
        var energyBudget = query.Options.EnergyBudgetJoules ?? double.PositiveInfinity;

        var chosen = new List<int>();
        foreach (var index in Enumerable.Range(0, ordered.Count))
        {
            if (chosen.Count == k)
            {
                break;
            }

            var trial = chosen.Append(index).ToList();
            var (latency, energy) = PlanCost(trial.Select(i => (ordered[i].Option, ordered[i].Cost)));
            if (latency <= latencyBudget && energy <= energyBudget)
            {
                chosen = trial;
            }
        }

        var feasible = chosen.Count > 0;
        string? binding = null;
        if (!feasible)
        {
            // Nothing fits: offer the cheapest plan on the budget that binds, and say so.
            var fastest = Enumerable.Range(0, ordered.Count).MinBy(i => ordered[i].Cost.LatencyMs);
            var cheapest = Enumerable.Range(0, ordered.Count).MinBy(i => ordered[i].Cost.EnergyJoules);
            binding = ordered[fastest].Cost.LatencyMs > latencyBudget ? "latency" : "energy";
            chosen = [binding == "latency" ? fastest : cheapest];
        }

        var steps = chosen.Select(i => ordered[i]).Select(s => new PlannedStep
        {
            ExpertId = s.Option.Manifest.Id,
            Replica = s.Option.Replica,
            Role = ExpertRole.Responder,
            Silo = s.Option.Silo.Silo,
            DeviceName = s.Option.Silo.Device.Name,
            Weight = Math.Max(s.Score, 1e-3),
            PredictedLatencyMs = s.Cost.LatencyMs,
            PredictedEnergyJoules = s.Cost.EnergyJoules,
            Resident = s.Option.Resident,
        }).ToList();
        var (planLatency, planEnergy) = PlanCost(chosen.Select(i => (ordered[i].Option, ordered[i].Cost)));
        var chosenIds = steps.Select(s => s.ExpertId).ToHashSet(StringComparer.Ordinal);

        return ValueTask.FromResult(new QueryPlan
        {
            QueryId = query.Id,
            Strategy = query.Options.Strategy,
            Skills = scored.SelectMany(s => s.Matched).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            Candidates = ordered.Select(s => new CandidateScore
            {
                ExpertId = s.Option.Manifest.Id,
                Score = s.Score,
                PredictedLatencyMs = s.Cost.LatencyMs,
                PredictedEnergyJoules = s.Cost.EnergyJoules,
                Silo = s.Option.Silo.Silo,
                Chosen = chosenIds.Contains(s.Option.Manifest.Id),
                Note = s.Matched.Count > 0 ? "matches " + string.Join(", ", s.Matched) : "no skill match",
            }).ToList(),
            Steps = steps,
            PredictedLatencyMs = planLatency,
            PredictedEnergyJoules = planEnergy,
            LatencyBudgetMs = query.Options.LatencyBudgetMs,
            EnergyBudgetJoules = query.Options.EnergyBudgetJoules,
            Feasible = feasible,
            BindingBudget = binding,
            Rationale = Explain(query, steps, feasible, binding, k),
            DecisionMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
        });
    }

    /// <summary>Plan latency: experts on one silo run one after another, silos in parallel; energy adds up.</summary>
    internal static (double LatencyMs, double EnergyJoules) PlanCost(IEnumerable<(ExpertOption Option, RunCost Cost)> runs)
    {
        var list = runs.ToList();
        var latency = list.Count == 0 ? 0 : list.GroupBy(r => PlanCandidates.DeviceKey(r.Option.Silo)).Max(g => g.Sum(r => r.Cost.LatencyMs));
        return (latency, list.Sum(r => r.Cost.EnergyJoules));
    }

    private static string Explain(Query query, List<PlannedStep> steps, bool feasible, string? binding, int k)
    {
        var who = string.Join(", ", steps.Select(s => $"{s.ExpertId} on {s.DeviceName}"));
        var order = query.Options.Strategy switch
        {
            RoutingStrategy.Fastest => "lowest predicted latency",
            RoutingStrategy.Cheapest => "lowest predicted energy",
            _ => "best skill match, then lowest latency",
        };
        return feasible
            ? string.Create(CultureInfo.InvariantCulture, $"Chose {who} by {order} (up to {k} expert(s)) within the budgets.")
            : $"No expert fits the {binding} budget; running the one with the lowest predicted {binding} ({who}).";
    }

    private static HashSet<string> Words(string text)
        => text.Split([' ', '\t', '\n', '\r', ',', '.', ';', ':', '?', '!', '(', ')', '"', '\'', '/', '-'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);

    private static bool Matches(HashSet<string> words, string skill)
    {
        var s = skill.ToLowerInvariant();
        return words.Contains(s) || words.Any(w => w.Length >= 4 && (w.StartsWith(s, StringComparison.Ordinal) || s.StartsWith(w, StringComparison.Ordinal)));
    }
}
