using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Monitoring;
using MoeMesh.Queries;
using MoeMesh.Grains.Telemetry;
using Orleans.Concurrency;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Plans a query, runs the chosen experts in parallel on their silos, streams their tokens,
/// combines their answers and reports what everything cost. Stateless: activations on every silo.
/// </summary>
[StatelessWorker]
[Reentrant]
internal sealed partial class RouterGrain(
    CatalogCache catalog,
    IQueryPlanner planner,
    IExpertCostEstimator costs,
    TimeProvider time,
    ILogger<RouterGrain> logger) : Grain, IRouterGrain
{
    public async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        InvalidRequestException.ThrowIfAny(query.Validate(), "query");
        var started = Stopwatch.GetTimestamp();
        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.query");
        activity?.SetTag("moemesh.query.id", query.Id);
        activity?.SetTag("moemesh.strategy", query.Options.Strategy.ToString());
        var snapshot = await catalog.GetAsync(cancellationToken);
        var plan = await planner.PlanAsync(query, snapshot, cancellationToken);
        LogPlanned(logger, query.Id, plan.Strategy, string.Join(", ", plan.Steps.Select(s => s.ExpertId)), plan.Feasible);
        activity?.SetTag("moemesh.experts", string.Join(",", plan.Steps.Select(s => s.ExpertId)));
        activity?.SetTag("moemesh.feasible", plan.Feasible);
        yield return new PlanChosen(plan);

        var events = Channel.CreateUnbounded<QueryEvent>(new UnboundedChannelOptions { SingleReader = true });
        var execution = ExecuteAsync(query, plan, snapshot.Experts.ToDictionary(e => e.Id, StringComparer.Ordinal), events.Writer, started, cancellationToken);
        await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None))
        {
            yield return e;
        }

        await execution;
    }

    private async Task ExecuteAsync(
        Query query,
        QueryPlan plan,
        Dictionary<string, ExpertManifest> manifests,
        ChannelWriter<QueryEvent> events,
        long started,
        CancellationToken cancellationToken)
    {
        try
        {
            var responders = plan.Steps.Where(s => s.Role == ExpertRole.Responder).ToList();
            var single = responders.Count == 1;
            var request = ExpertPrompt.ForResponder(query);
            var runs = await Task.WhenAll(responders.Select(step => RunStepAsync(step, request, single, query.Choices.Count, manifests, events, cancellationToken)));
            cancellationToken.ThrowIfCancellationRequested();

            var completed = runs.Where(r => r.Outcome == RunOutcome.Completed).ToList();
            if (completed.Count == 0)
            {
                throw new ExpertUnavailableException(
                    $"Every expert in the plan failed: {string.Join("; ", runs.Select(r => $"{r.ExpertId}: {r.Error}"))}");
            }

            var (answer, choice, combination, source) = Combine(completed, plan, query.Choices.Count);
            if (!single)
            {
                await events.WriteAsync(new TokenProduced(answer, source, IsAnswer: true), cancellationToken);
            }

            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var energy = runs.Sum(r => r.EnergyJoules);
            var budgetMet = latency <= (query.Options.LatencyBudgetMs ?? double.PositiveInfinity)
                            && energy <= (query.Options.EnergyBudgetJoules ?? double.PositiveInfinity);
            var notes = new List<string>();
            if (!plan.Feasible)
            {
                notes.Add($"No plan met the {plan.BindingBudget} budget; ran the cheapest one instead.");
            }

            notes.AddRange(runs.Where(r => r.Outcome == RunOutcome.Failed).Select(r => $"{r.ExpertId} failed: {r.Error}"));
            var result = new QueryResult
            {
                QueryId = query.Id,
                Answer = answer,
                Choice = choice,
                Plan = plan,
                Runs = runs,
                LatencyMs = latency,
                EnergyJoules = energy,
                BudgetMet = budgetMet,
                Combination = combination,
                Notes = notes,
            };
            GrainFactory.GetGrain<IMeshMonitorGrain>(0).RecordDecisionAsync(DecisionRecord.From(query, result, time.GetUtcNow())).Ignore();
            var tags = new TagList { { "strategy", plan.Strategy.ToString() }, { "budget_met", budgetMet } };
            MoeMeshInstrumentation.Queries.Add(1, tags);
            MoeMeshInstrumentation.QueryLatency.Record(latency, tags);
            MoeMeshInstrumentation.QueryEnergy.Record(energy, tags);
            if (!budgetMet)
            {
                MoeMeshInstrumentation.BudgetViolations.Add(1, tags);
            }
            await events.WriteAsync(new QueryCompleted(result), cancellationToken);
            events.Complete();
        }
        catch (Exception ex)
        {
            if (ex is not OperationCanceledException)
            {
                MoeMeshInstrumentation.QueryFailures.Add(1, new KeyValuePair<string, object?>("strategy", plan.Strategy.ToString()));
                GrainFactory.GetGrain<IMeshMonitorGrain>(0).RecordDecisionAsync(new DecisionRecord
                {
                    QueryId = query.Id,
                    At = time.GetUtcNow(),
                    Strategy = plan.Strategy,
                    Rationale = plan.Rationale,
                    Feasible = plan.Feasible,
                    BudgetMet = false,
                    Error = ex.Message,
                    Excerpt = query.Question.Length <= 160 ? query.Question : query.Question[..159] + "…",
                }).Ignore();
            }

            events.Complete(ex);
        }
    }

    private async Task<ExpertRun> RunStepAsync(
        PlannedStep step,
        Generation.GenerationRequest request,
        bool isAnswer,
        int choiceCount,
        Dictionary<string, ExpertManifest> manifests,
        ChannelWriter<QueryEvent> events,
        CancellationToken cancellationToken)
    {
        var replica = new ExpertReplica(step.ExpertId, step.Replica);
        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.expert");
        activity?.SetTag("moemesh.expert", step.ExpertId);
        activity?.SetTag("moemesh.role", step.Role.ToString());
        var expert = GrainFactory.GetGrain<IExpertGrain>(replica.GrainKey);
        var started = Stopwatch.GetTimestamp();
        var text = new System.Text.StringBuilder();
        ExpertReport? report = null;
        ExpertRun run;
        try
        {
            await foreach (var chunk in expert.GenerateAsync(request, cancellationToken))
            {
                if (chunk.Text.Length > 0)
                {
                    text.Append(chunk.Text);
                    await events.WriteAsync(new TokenProduced(chunk.Text, step.ExpertId, isAnswer), cancellationToken);
                }

                report ??= chunk.Report;
            }

            var body = text.ToString();
            run = Run(step, started, body, RunOutcome.Completed, report, error: null) with { Choice = ChoiceExtractor.Extract(body, choiceCount) };
            if (report is not null && manifests.TryGetValue(step.ExpertId, out var manifest))
            {
                Learn(manifest, report);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            run = Run(step, started, text.ToString(), RunOutcome.Cancelled, report, "cancelled by the caller");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRunFailed(logger, ex, step.ExpertId);
            run = Run(step, started, text.ToString(), RunOutcome.Failed, report, ex.Message);
        }

        await events.WriteAsync(new RunFinished(run), CancellationToken.None);
        return run;
    }

    private void Learn(ExpertManifest manifest, ExpertReport report)
    {
        var m = report.Metrics;
        var prefillMs = m.TimeToFirstTokenMs;
        var decodeMs = Math.Max(0, m.TotalMs - m.TimeToFirstTokenMs);
        var device = catalog.TryGetDevice(report.Silo);
        if (device is not null && m.GeneratedTokens > 0)
        {
            costs.Observe(manifest, device, m.PromptTokens, m.GeneratedTokens, prefillMs, decodeMs, report.EnergyJoules);
        }
    }

    private static ExpertRun Run(PlannedStep step, long started, string text, RunOutcome outcome, ExpertReport? report, string? error) => new()
    {
        ExpertId = step.ExpertId,
        Replica = report?.Replica.Replica ?? step.Replica,
        Role = step.Role,
        Silo = report?.Silo ?? step.Silo,
        DeviceName = report?.DeviceName ?? step.DeviceName,
        Outcome = outcome,
        Text = text,
        Metrics = report?.Metrics,
        LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
        EnergyJoules = report?.EnergyJoules ?? 0,
        EnergyMeter = report?.EnergyMeter ?? "model",
        PredictedLatencyMs = step.PredictedLatencyMs,
        PredictedEnergyJoules = step.PredictedEnergyJoules,
        Error = error,
        LoadMs = report?.LoadMs ?? 0,
    };

    /// <summary>
    /// One answer: the only responder's; for multiple choice, the gate-weighted vote; otherwise the
    /// answer of the responder the plan weighted highest.
    /// </summary>
    private static (string Answer, string? Choice, string Combination, string Source) Combine(List<ExpertRun> completed, QueryPlan plan, int choiceCount)
    {
        double WeightOf(ExpertRun r) => plan.Steps.FirstOrDefault(s => s.ExpertId == r.ExpertId)?.Weight ?? 1;
        if (completed.Count == 1)
        {
            return (completed[0].Text, completed[0].Choice, "single", completed[0].ExpertId);
        }

        if (choiceCount > 0)
        {
            var votes = completed.Where(r => r.Choice is not null).GroupBy(r => r.Choice!).Select(g => (Choice: g.Key, Weight: g.Sum(WeightOf), Best: g.MaxBy(WeightOf)!)).ToList();
            if (votes.Count > 0)
            {
                var winner = votes.OrderByDescending(v => v.Weight).ThenBy(v => v.Choice, StringComparer.Ordinal).First();
                return (winner.Best.Text, winner.Choice, votes.Count == 1 ? "agreement" : "vote", winner.Best.ExpertId);
            }
        }

        var best = completed.MaxBy(WeightOf)!;
        return (best.Text, best.Choice, "best-weighted", best.ExpertId);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Query {QueryId}: {Strategy} plan [{Experts}] feasible={Feasible}")]
    private static partial void LogPlanned(ILogger logger, string queryId, RoutingStrategy strategy, string experts, bool feasible);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expert {ExpertId} failed during a query")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string expertId);
}
