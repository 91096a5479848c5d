using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Queries;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;


namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// The router's planner, built on the routing library. Candidates are the (expert, silo) pairs the
/// mesh offers now, costed by the live cost model (plus load time for experts not loaded). When
/// every candidate expert has recorded history and training data is configured, experts are
/// scored by the gate and skill profiles fitted on the training split, the same as
/// <c>moemesh eval</c>; otherwise by their manifests' skill tags and sizes.
/// Strategies: <c>moe2</c> exact budgeted subset of the gate's best (k default
/// <see cref="RouterOptions.DefaultK"/>); <c>symbolic</c> skill-recruited experts plus the
/// aggregator; <c>auto</c> and <c>single</c> the gate's best set of at most k (default 1) experts;
/// <c>fastest</c> and <c>cheapest</c> the lowest predicted latency or energy.
/// </summary>
public sealed class MeshRoutingPlanner(RecordedKnowledge knowledge, LiveCostModel costs, IOptions<RouterOptions> options, IGrainFactory? grains = null) : IQueryPlanner
{
    private const double CharsPerToken = 4;
    private const int TemplateTokens = 32;

    private readonly ConcurrentDictionary<string, ManifestSkillGate> _manifestGates = new(StringComparer.Ordinal);
    private LlmSkillExtractor? _llmSkills;

    public async ValueTask<QueryPlan> PlanAsync(Query query, CatalogSnapshot catalog, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        costs.Update(catalog);
        var live = LiveCandidates.Find(query, catalog);
        if (live.Count == 0)
        {
            throw new ExpertUnavailableException(catalog.Silos.Any(s => s.State == SiloState.Active)
                ? "No expert can serve: no active silo can host any expert" + (query.Options.Experts.Count > 0 ? $" of {string.Join(", ", query.Options.Experts)}." : " in the catalog.")
                : "No expert can serve: no silo is active.");
        }

        var text = PromptText(query);
        var promptChars = PromptChars(query);
        var answerOptions = query.Choices.Count >= 2 ? query.Choices.Count : 10;

        var recorded = knowledge.Available && live.All(c => !string.IsNullOrEmpty(c.Manifest.RecordedModel));
        var pool = recorded
            ? await knowledge.ForPoolAsync(live.Select(c => c.Manifest.RecordedModel!).ToList()).WaitAsync(cancellationToken)
            : null;

        // Expert order: the pool's for recorded experts; otherwise the manifests', by id.
        var manifests = live.Select(c => c.Manifest).DistinctBy(m => m.Id).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        var expertIds = pool is not null ? pool.Pool : manifests.Select(m => m.Id).ToList();
        int ExpertIndex(ExpertManifest m) => pool is not null ? pool.IndexOf(m.RecordedModel!) : manifests.FindIndex(x => x.Id == m.Id);

        var silos = live.Select(c => c.Silo.Silo).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var promptTokens = pool?.Environment.PromptTokens(promptChars) ?? ((int)Math.Ceiling(promptChars / CharsPerToken) + TemplateTokens);
        var candidates = new PlanningCandidate[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            var c = live[i];
            var expert = ExpertIndex(c.Manifest);
            var output = Math.Min(query.Options.MaxTokens, pool?.Environment.OutputTokens(expert) ?? query.Options.MaxTokens);
            var cost = costs.Predict(c.Manifest, c.Silo, new RequestShape(promptTokens, output));
            candidates[i] = new PlanningCandidate(expert, silos.IndexOf(c.Silo.Silo), cost.LatencyMs + LoadMs(c), cost.EnergyJoules);
        }

        var strategy = query.Options.Strategy;
        var k = query.Options.K ?? (strategy is RoutingStrategy.Moe2 or RoutingStrategy.Symbolic ? options.Value.DefaultK : 1);
        var budget = new SelectionBudget
        {
            LatencyMs = query.Options.LatencyBudgetMs,
            EnergyJoules = query.Options.EnergyBudgetJoules,
            MaxExperts = Math.Min(k, BudgetedSubsetSelector.MaxCandidates),
        };

        IReadOnlyList<string> skills;
        RoutingPlan plan;
        PlanningCandidate? aggregator = null;
        switch (strategy)
        {
            case RoutingStrategy.Fastest or RoutingStrategy.Cheapest:
                skills = [];
                plan = Extreme(candidates, budget, expertIds, fastest: strategy == RoutingStrategy.Fastest);
                break;

            case RoutingStrategy.Symbolic when pool is not null:
            {
                aggregator = Cheapest(candidates, pool.Aggregator, extraPromptTokens: budget.MaxExperts * pool.Environment.Options.DefaultOutputTokens, promptTokens, live, pool);
                var found = await SkillsOfAsync(text, pool.Symbolic.Skills, cancellationToken);
                var symbolic = pool.Symbolic.Plan(found, candidates, budget, aggregator, answerOptions: answerOptions);
                skills = symbolic.Skills;
                plan = symbolic.Plan;
                break;
            }

            default:
            {
                var (gate, found) = pool is not null
                    ? (pool.Moe2, await SkillsOfAsync(text, pool.Symbolic.Skills, cancellationToken))
                    : (new Moe2Planner(ManifestGate(manifests)), await SkillsOfAsync(text, null, cancellationToken));
                skills = found;
                var gateQuery = new GateQuery(text, found, pool?.Embed?.Invoke(query.Question));
                plan = pool?.Adaptive is { } adaptive && strategy == RoutingStrategy.Moe2 && query.Options.K is null
                    ? gate.PlanAdaptive(gateQuery, candidates, budget, adaptive, answerOptions)
                    : gate.Plan(gateQuery, candidates, budget, answerOptions: answerOptions);
                if (strategy == RoutingStrategy.Symbolic && plan.Responders.Count >= 2)
                {
                    // Without skill profiles, the aggregator is the expert the manifests rate highest.
                    var best = plan.ExpertQuality.Select((q, e) => (q, e)).MaxBy(x => x.q).e;
                    aggregator = Cheapest(candidates, best, extraPromptTokens: plan.Responders.Count * query.Options.MaxTokens, promptTokens, live, null);
                    plan = plan with { Aggregator = 0, LatencyMs = plan.LatencyMs + (aggregator?.LatencyMs ?? 0), EnergyJoules = plan.EnergyJoules + (aggregator?.EnergyJoules ?? 0) };
                }

                break;
            }
        }

        var queryPlan = plan.ToQueryPlan(query.Id, strategy, expertIds, candidates, d => silos[d], budget, skills, aggregator, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return queryPlan with
        {
            Candidates = queryPlan.Candidates.Select((c, i) => c with
            {
                ExpertId = live[i].Manifest.Id,
                Note = live[i].Resident ? c.Note : string.Join("; ", new[] { c.Note, "not loaded: load time included" }.Where(n => n is not null)),
            }).ToList(),
            Steps = Steps(plan, queryPlan, live, candidates, aggregator),
            Rationale = (pool is not null ? "Trained gate: " : "Manifest skills: ") + queryPlan.Rationale,
            DecisionMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    /// <summary>The question and its options as the experts read them (the evaluation's prompt text).</summary>
    public static string PromptText(Query query)
    {
        var text = new StringBuilder(query.Question);
        for (var i = 0; i < query.Choices.Count; i++)
        {
            text.Append('\n').Append(ExpertPrompt.Letter(i)).Append(". ").Append(query.Choices[i]);
        }

        return text.ToString();
    }

    /// <summary>Characters of the question and options, counted as the evaluation counts them.</summary>
    public static int PromptChars(Query query) => query.Question.Length + query.Choices.Sum(c => c.Length + 4);

    private double LoadMs(LiveCandidate candidate)
        => candidate.Resident ? 0 : candidate.LoadMs ?? (candidate.Manifest.WeightBytes / (options.Value.ModelLoadGBps * 1e9) * 1000);

    private async Task<IReadOnlyList<string>> SkillsOfAsync(string text, ISkillExtractor? trained, CancellationToken cancellationToken)
    {
        if (options.Value.SkillExpert is { Length: > 0 } skillExpert && grains is not null)
        {
            _llmSkills ??= new LlmSkillExtractor(new ExpertTextGenerator(grains, skillExpert));
            return await _llmSkills.ExtractAsync(text, cancellationToken);
        }

        if (trained is not null)
        {
            return await trained.ExtractAsync(text, cancellationToken);
        }

        if (await knowledge.SkillsAsync() is { } lexical)
        {
            return lexical.Extract(text);
        }

        // No model of skills: the question's own words, which manifest tags are matched against.
        return text.Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.ToLowerInvariant())
            .Where(w => w.Length >= 3 && !StopWords.Contains(w))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our", "out", "has", "him",
        "his", "how", "its", "may", "new", "now", "see", "who", "did", "get", "let", "put", "say", "she", "too", "use", "what", "when",
        "where", "which", "while", "with", "this", "that", "these", "those", "from", "into", "about", "there", "their", "them", "they",
        "then", "than", "will", "would", "could", "should", "does", "have", "been", "being", "were", "your", "some", "such", "each",
        "explain", "tell", "show", "give", "please", "describe", "why", "is",
    };

    private static readonly char[] WordSeparators = [' ', '\t', '\n', '\r', ',', '.', ';', ':', '?', '!', '(', ')', '"', '\'', '/', '-', '[', ']'];

    private ManifestSkillGate ManifestGate(List<ExpertManifest> manifests)
    {
        var key = string.Join('\n', manifests.Select(m => $"{m.Id}|{m.ActiveParameters}|{string.Join(',', m.Skills)}"));
        return _manifestGates.GetOrAdd(key, _ => new ManifestSkillGate(manifests));
    }

    /// <summary>The cheapest placement of <paramref name="expert"/> reading the question plus the responders' answers, load time included.</summary>
    private PlanningCandidate? Cheapest(PlanningCandidate[] candidates, int expert, int extraPromptTokens, int promptTokens, IReadOnlyList<LiveCandidate> live, PoolKnowledge? pool)
    {
        PlanningCandidate? best = null;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].Expert != expert)
            {
                continue;
            }

            var output = pool?.Environment.OutputTokens(expert) ?? live[i].Manifest.ContextSize / 4;
            var cost = costs.Predict(live[i].Manifest, live[i].Silo, new RequestShape(promptTokens + extraPromptTokens, output));
            var candidate = candidates[i] with { LatencyMs = cost.LatencyMs + LoadMs(live[i]), EnergyJoules = cost.EnergyJoules };
            if (best is null || candidate.EnergyJoules < best.Value.EnergyJoules)
            {
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>The single fastest (or most frugal) run; infeasible when even it breaks a budget.</summary>
    private static RoutingPlan Extreme(PlanningCandidate[] candidates, SelectionBudget budget, IReadOnlyList<string> experts, bool fastest)
    {
        var index = 0;
        for (var i = 1; i < candidates.Length; i++)
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

    /// <summary>The plan's steps with the silo, device, replica and residency of each chosen candidate.</summary>
    private static IReadOnlyList<PlannedStep> Steps(RoutingPlan plan, QueryPlan queryPlan, IReadOnlyList<LiveCandidate> live, PlanningCandidate[] candidates, PlanningCandidate? aggregator)
    {
        var steps = new List<PlannedStep>();
        for (var r = 0; r < plan.Responders.Count; r++)
        {
            var c = live[plan.Responders[r].Candidate];
            steps.Add(queryPlan.Steps[r] with
            {
                ExpertId = c.Manifest.Id,
                Silo = c.Silo.Silo,
                DeviceName = c.Silo.Device.Name,
                Replica = c.Replica,
                Resident = c.Resident,
            });
        }

        if (plan.Aggregator is not null && aggregator is { } a)
        {
            var index = Array.FindIndex(candidates, x => x.Expert == a.Expert && x.Device == a.Device);
            var c = live[index];
            steps.Add(queryPlan.Steps[^1] with
            {
                ExpertId = c.Manifest.Id,
                Role = ExpertRole.Aggregator,
                Silo = c.Silo.Silo,
                DeviceName = c.Silo.Device.Name,
                Replica = c.Replica,
                Resident = c.Resident,
            });
        }

        return steps;
    }
}
