using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Errors;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Monitoring;
using MoeMesh.Grains.Routing.Execution;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Grains.Telemetry;
using MoeMesh.Monitoring;
using MoeMesh.Queries;
using Orleans.Concurrency;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Plans a query, runs the chosen experts in parallel on their silos, streams their tokens,
/// combines their answers and reports what everything cost. Stateless: an activation on every
/// silo that receives queries. One activation per silo and key: a query's stream is pulled by
/// several calls, which must all reach the activation that holds its enumerator; reentrancy lets
/// that one activation serve many queries at once.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
internal sealed partial class RouterGrain(
    CatalogCache catalog,
    IQueryPlanner planner,
    LiveCostModel costs,
    IOptions<RouterOptions> options,
    BatchWindow batchWindow,
    TimeProvider time,
    IClusterMembershipService membership,
    ILogger<RouterGrain> logger) : Grain, IRouterGrain
{
    private DecisionFeed? _feed;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Decisions go to the monitor in batches: one message per flush, not one per query.
        var monitor = GrainFactory.GetGrain<IMeshMonitorGrain>(0);
        _feed = new DecisionFeed(time, batch => monitor.RecordDecisionsAsync(batch).Ignore(), logger);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _feed?.Dispose();
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        InvalidRequestException.ThrowIfAny(query.Validate(), "query");
        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.query");
        activity?.SetTag("moemesh.query.id", query.Id);
        activity?.SetTag("moemesh.strategy", query.Options.Strategy.ToString());

        // Planning and execution run apart from this iterator and write into the channel, so the
        // experts start as soon as the plan exists (not when the caller next pulls), and heartbeats
        // flow from the start, through a slow first plan too.
        var events = Channel.CreateUnbounded<QueryEvent>(new UnboundedChannelOptions { SingleReader = true });
        var interval = options.Value.HeartbeatInterval;
        using var heartbeat = interval > TimeSpan.Zero
            ? time.CreateTimer(static state => ((ChannelWriter<QueryEvent>)state!).TryWrite(QueryHeartbeat.Instance), events.Writer, interval, interval)
            : null;

        // A caller that vanishes without cancelling (killed, disconnected) leaves its events unclaimed;
        // the watch then cancels the query as if the caller had.
        using var caller = new CallerWatch(time, options.Value.CallerSilenceTimeout, cancellationToken, silent => LogCallerGone(logger, query.Id, silent.TotalSeconds));

        // The iterator resumes under each MoveNext call's activity; the work belongs under the query's.
        var previous = Activity.Current;
        Activity.Current = activity;
        var running = PlanAndRunAsync(query, events.Writer, caller.Token);
        Activity.Current = previous;
        await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None))
        {
            caller.Handed();
            yield return e;
            caller.Pulled();
        }

        await running;
    }

    private async Task PlanAndRunAsync(Query query, ChannelWriter<QueryEvent> events, CancellationToken cancellationToken)
    {
        // The query's latency counts from here: planning included.
        var started = time.GetTimestamp();
        QueryPlan? plan = null;
        try
        {
            var snapshot = await catalog.GetAsync(cancellationToken);
            plan = await planner.PlanAsync(query, snapshot, cancellationToken);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                LogPlanned(logger, query.Id, plan.Strategy, string.Join(", ", plan.Steps.Select(s => s.ExpertId)), plan.Feasible);
            }

            if (Activity.Current is { } current)
            {
                current.SetTag("moemesh.experts", string.Join(",", plan.Steps.Select(s => s.ExpertId)));
                current.SetTag("moemesh.feasible", plan.Feasible);
            }

            events.TryWrite(new PlanChosen(plan));
            var execution = new QueryExecution(new QueryState(query, plan, started, snapshot, events), _services ??= Services());
            var result = await execution.RunAsync(cancellationToken);
            Record(query, result);
            await events.WriteAsync(new QueryCompleted(result), cancellationToken);
            events.Complete();
        }
        catch (Exception ex)
        {
            // Failures before a plan (bad input, no expert) reach the caller as they are; failures of a
            // running plan are also recorded for the dashboard.
            if (plan is not null && ex is not OperationCanceledException)
            {
                MoeMeshInstrumentation.QueryFailures.Add(1, new KeyValuePair<string, object?>("strategy", plan.Strategy.ToString()));
                Feed.Add(new DecisionRecord
                {
                    QueryId = query.Id,
                    At = time.GetUtcNow(),
                    Excerpt = query.Question.Length <= 160 ? query.Question : query.Question[..159] + "…",
                    Strategy = plan.Strategy,
                    Rationale = plan.Rationale,
                    Feasible = plan.Feasible,
                    BudgetMet = false,
                    Error = ex.Message,
                });
            }

            events.Complete(ex);
        }
    }

    private ExecutionServices? _services;

    private DecisionFeed Feed => _feed ?? throw new InvalidOperationException("The router is not activated.");

    private ExecutionServices Services() => new(
        new ExpertReferences(GrainFactory),
        costs,
        batchWindow,
        options.Value,
        time,
        async cancellationToken =>
        {
            catalog.Invalidate();
            return await catalog.GetAsync(cancellationToken);
        },
        catalog.MarkUnreachable,
        (dead, token) => MembershipWait.UntilNotActiveAsync(membership, dead, options.Value.DeadSiloWait, time, token),
        logger);

    private void Record(Query query, QueryResult result)
    {
        Feed.Add(DecisionRecord.From(query, result, time.GetUtcNow()));
        var tags = new TagList { { "strategy", result.Plan.Strategy.ToString() }, { "budget_met", result.BudgetMet } };
        MoeMeshInstrumentation.Queries.Add(1, tags);
        MoeMeshInstrumentation.QueryLatency.Record(result.LatencyMs, tags);
        MoeMeshInstrumentation.QueryEnergy.Record(result.EnergyJoules, tags);
        if (!result.BudgetMet)
        {
            MoeMeshInstrumentation.BudgetViolations.Add(1, tags);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Query {QueryId}: the caller left its stream unread for {Seconds:0.#} s without cancelling; cancelling the query")]
    private static partial void LogCallerGone(ILogger logger, string queryId, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Query {QueryId}: {Strategy} plan [{Experts}] feasible={Feasible}")]
    private static partial void LogPlanned(ILogger logger, string queryId, RoutingStrategy strategy, string experts, bool feasible);
}
