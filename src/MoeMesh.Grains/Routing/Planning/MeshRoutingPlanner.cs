using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Options;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Queries;
using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// The router's planner, built on the routing library. Candidates are the (expert, silo) pairs the
/// mesh offers now, each carrying its placement (expert id, silo, device, replica, residency),
/// costed by the live cost model (plus load time for experts not loaded), so the library's plan is
/// the final one. When every candidate expert has recorded history and training data is
/// configured, experts are scored by the gate and skill profiles fitted on the training split, the
/// same as <c>moemesh eval</c>; otherwise by their manifests' skill tags and sizes.
/// Strategies: <c>moe2</c> exact budgeted subset of the gate's best (k default
/// <see cref="RouterOptions.DefaultK"/>); <c>symbolic</c> skill-recruited experts plus the
/// aggregator; <c>auto</c> and <c>single</c> the gate's best set of at most k (default 1) experts;
/// <c>fastest</c> and <c>cheapest</c> the lowest predicted latency or energy.
/// </summary>
public sealed class MeshRoutingPlanner(
    RecordedKnowledge knowledge,
    LiveCostModel costs,
    IOptions<RouterOptions> options,
    IGrainFactory? grains = null,
    SiloIdentity? silo = null) : IQueryPlanner
{
    private const double CharsPerToken = 4;
    private const int TemplateTokens = 32;

    private readonly ConcurrentDictionary<string, ManifestSkillGate> _manifestGates = new(StringComparer.Ordinal);
    private readonly QuerySkills _skills = new(knowledge, options, grains);
    private readonly LiveCandidateCache _live = new();
    private readonly ConditionalWeakTable<IReadOnlyList<LiveCandidate>, LivePlanningInputs> _inputs = [];

    public async ValueTask<QueryPlan> PlanAsync(Query query, CatalogSnapshot catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(catalog);
        cancellationToken.ThrowIfCancellationRequested();
        var started = Stopwatch.GetTimestamp();
        costs.Update(catalog);
        var live = _live.Find(query, catalog);
        if (live.Count == 0)
        {
            throw new ExpertUnavailableException(catalog.Silos.Any(s => s.State == SiloState.Active)
                ? "No expert can serve: no active silo can host any expert" + (query.Options.Experts.Count > 0 ? $" of {string.Join(", ", query.Options.Experts)}." : " in the catalog.")
                : "No expert can serve: no silo is active.");
        }

        var inputs = InputsFor(live);
        var pool = inputs.Recorded ? inputs.FittedPool ?? await PoolAsync(inputs, cancellationToken) : null;

        // Expert order: the pool's for recorded experts; otherwise the manifests', by id.
        var manifests = pool is null ? inputs.Manifests : null;
        var expertIds = pool is not null ? pool.Pool : inputs.ExpertIds;
        var promptChars = PromptChars(query);
        var request = new PlanningRequest(
            query,
            inputs,
            pool,
            pool?.Environment.PromptTokens(promptChars) ?? ((int)Math.Ceiling(promptChars / CharsPerToken) + TemplateTokens));
        var candidates = Candidates(request);

        var strategy = query.Options.Strategy;
        var k = query.Options.K ?? (strategy is RoutingStrategy.Moe2 or RoutingStrategy.Symbolic ? options.Value.DefaultK : 1);
        var budget = new SelectionBudget
        {
            LatencyMs = query.Options.LatencyBudgetMs,
            EnergyJoules = query.Options.EnergyBudgetJoules,
            MaxExperts = Math.Min(k, BudgetedSubsetSelector.MaxCandidates),
        };

        var (plan, skills, aggregator) = await ChooseAsync(request, candidates, expertIds, manifests, budget, cancellationToken);
        return plan.ToQueryPlan(new QueryPlanContext
        {
            QueryId = query.Id,
            Strategy = strategy,
            Experts = expertIds,
            Candidates = candidates,
            Placements = request.Inputs.Placements,
            Budget = budget,
            Skills = skills,
            Aggregator = aggregator,
            AggregatorPlacement = aggregator is { } a ? request.Inputs.Placements[AggregatorIndex(candidates, a)] : null,
            Basis = pool is not null ? "Trained gate" : "Manifest skills",
            RouterSilo = silo?.Name,
            DecisionMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
        });
    }

    /// <summary>The question and its options as the experts read them (the evaluation's prompt text).</summary>
    public static string PromptText(Query query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var text = new StringBuilder(query.Question);
        for (var i = 0; i < query.Choices.Count; i++)
        {
            text.Append('\n').Append(ExpertPrompt.Letter(i)).Append(". ").Append(query.Choices[i]);
        }

        return text.ToString();
    }

    /// <summary>Characters of the question and options, counted as the evaluation counts them.</summary>
    public static int PromptChars(Query query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var chars = query.Question.Length;
        foreach (var choice in query.Choices)
        {
            chars += choice.Length + 4;
        }

        return chars;
    }

    /// <summary>The routing library's plan for the strategy, the skills it found and the aggregator it placed.</summary>
    private async ValueTask<(RoutingPlan Plan, IReadOnlyList<string> Skills, PlanningCandidate? Aggregator)> ChooseAsync(
        PlanningRequest request, PlanningCandidate[] candidates, IReadOnlyList<string> expertIds, List<ExpertManifest>? manifests, SelectionBudget budget, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var pool = request.Pool;
        var strategy = query.Options.Strategy;
        var answerOptions = query.Choices.Count >= 2 ? query.Choices.Count : 10;
        if (strategy is RoutingStrategy.Fastest or RoutingStrategy.Cheapest)
        {
            return (RoutingPlan.Extreme(candidates, budget, expertIds, fastest: strategy == RoutingStrategy.Fastest), [], null);
        }

        var text = PromptText(query);
        if (strategy == RoutingStrategy.Symbolic && pool is not null)
        {
            var aggregator = Cheapest(request, candidates, pool.Aggregator, extraPromptTokens: budget.MaxExperts * pool.Environment.Options.DefaultOutputTokens);
            var found = await _skills.OfAsync(text, pool.Symbolic.Skills, cancellationToken);
            var symbolic = pool.Symbolic.Plan(found, candidates, budget, aggregator, answerOptions: answerOptions);
            return (symbolic.Plan, symbolic.Skills, aggregator);
        }

        var (gate, (skills, posterior)) = pool is not null
            ? (pool.Moe2, await _skills.WithPosteriorAsync(text, pool.Symbolic.Skills, cancellationToken))
            : (new Moe2Planner(ManifestGate(manifests!)), (await _skills.OfAsync(text, null, cancellationToken), null));
        var gateQuery = new GateQuery(text, skills, pool?.Embed?.Invoke(query.Question)) { SkillPosterior = posterior };
        var plan = pool?.Adaptive is { } adaptive && strategy == RoutingStrategy.Moe2 && query.Options.K is null
            ? gate.PlanAdaptive(gateQuery, candidates, budget, adaptive, answerOptions)
            : gate.Plan(gateQuery, candidates, budget, answerOptions: answerOptions);
        if (strategy != RoutingStrategy.Symbolic || plan.Responders.Count < 2)
        {
            return (plan, skills, null);
        }

        // Without skill profiles, the aggregator is the expert the manifests rate highest.
        var best = plan.ExpertQuality.Select((q, e) => (q, e)).MaxBy(x => x.q).e;
        var placed = Cheapest(request, candidates, best, extraPromptTokens: plan.Responders.Count * query.Options.MaxTokens);
        return (plan.WithAggregator(placed), skills, placed);
    }

    /// <summary>Every live candidate, costed for the query and carrying its placement.</summary>
    private PlanningCandidate[] Candidates(PlanningRequest request)
    {
        var inputs = request.Inputs;
        var live = inputs.Live;
        var candidates = new PlanningCandidate[live.Count];
        for (var i = 0; i < live.Count; i++)
        {
            var c = live[i];
            var expert = request.Pool is { } pool ? inputs.PoolIndex(pool, i) : inputs.ManifestIndex[i];
            var output = Math.Min(request.Query.Options.MaxTokens, request.Pool?.Environment.OutputTokens(expert) ?? request.Query.Options.MaxTokens);
            var cost = costs.Predict(c.Manifest, c.Silo, new RequestShape(request.PromptTokens, output));
            candidates[i] = new PlanningCandidate(expert, inputs.Devices[i], cost.LatencyMs + LoadMs(c), cost.EnergyJoules);
        }

        return candidates;
    }

    /// <summary>The planning inputs of a list of live candidates, worked out once per list.</summary>
    private LivePlanningInputs InputsFor(IReadOnlyList<LiveCandidate> live)
    {
        if (_inputs.TryGetValue(live, out var known))
        {
            return known;
        }

        var inputs = new LivePlanningInputs(live, knowledge.Available);
        _inputs.AddOrUpdate(live, inputs);
        return inputs;
    }

    /// <summary>The pool's knowledge while it is not yet known for these candidates: fitted, or standing in while fitted.</summary>
    private async ValueTask<PoolKnowledge> PoolAsync(LivePlanningInputs inputs, CancellationToken cancellationToken)
    {
        var pool = await knowledge.ForPoolAsync(inputs.RecordedModels).WaitAsync(cancellationToken);
        inputs.Remember(pool);
        return pool;
    }

    /// <summary>The candidate the aggregator was placed as (same expert, same device).</summary>
    private static int AggregatorIndex(PlanningCandidate[] candidates, PlanningCandidate aggregator)
        => Array.FindIndex(candidates, x => x.Expert == aggregator.Expert && x.Device == aggregator.Device);

    private double LoadMs(LiveCandidate candidate)
        => candidate.Resident ? 0 : candidate.LoadMs ?? (candidate.Manifest.WeightBytes / (options.Value.ModelLoadGBps * 1e9) * 1000);

    private ManifestSkillGate ManifestGate(List<ExpertManifest> manifests)
    {
        var key = string.Join('\n', manifests.Select(m => $"{m.Id}|{m.ActiveParameters}|{string.Join(',', m.Skills)}"));
        return _manifestGates.GetOrAdd(key, _ => new ManifestSkillGate(manifests));
    }

    /// <summary>The cheapest placement of <paramref name="expert"/> reading the question plus the responders' answers, load time included.</summary>
    private PlanningCandidate? Cheapest(PlanningRequest request, PlanningCandidate[] candidates, int expert, int extraPromptTokens)
    {
        PlanningCandidate? best = null;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].Expert != expert)
            {
                continue;
            }

            var live = request.Inputs.Live[i];
            var output = request.Pool?.Environment.OutputTokens(expert) ?? live.Manifest.ContextSize / 4;
            var cost = costs.Predict(live.Manifest, live.Silo, new RequestShape(request.PromptTokens + extraPromptTokens, output));
            var candidate = candidates[i] with { LatencyMs = cost.LatencyMs + LoadMs(live), EnergyJoules = cost.EnergyJoules };
            if (best is null || candidate.EnergyJoules < best.Value.EnergyJoules)
            {
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>One query's planning inputs: the live candidates' (in candidate order), the pool's knowledge and the prompt's size.</summary>
    private sealed record PlanningRequest(Query Query, LivePlanningInputs Inputs, PoolKnowledge? Pool, int PromptTokens);
}
