using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Errors;
using MoeMesh.Grains.Hosting;
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
    SiloIdentity silo,
    TimeProvider time,
    ILogger<RouterGrain> logger) : Grain, IRouterGrain
{
    public async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        InvalidRequestException.ThrowIfAny(query.Validate(), "query");
        using var activity = MoeMeshInstrumentation.Source.StartActivity("moemesh.query");
        activity?.SetTag("moemesh.query.id", query.Id);
        activity?.SetTag("moemesh.strategy", query.Options.Strategy.ToString());

        // The query's latency counts from here: planning included.
        var started = Stopwatch.GetTimestamp();
        var snapshot = await catalog.GetAsync(cancellationToken);
        var plan = await planner.PlanAsync(query, snapshot, cancellationToken) with { RouterSilo = silo.Name };
        LogPlanned(logger, query.Id, plan.Strategy, string.Join(", ", plan.Steps.Select(s => s.ExpertId)), plan.Feasible);
        activity?.SetTag("moemesh.experts", string.Join(",", plan.Steps.Select(s => s.ExpertId)));
        activity?.SetTag("moemesh.feasible", plan.Feasible);

        // The plan goes out through the same channel as the rest, so the experts start now rather than
        // when the caller next pulls the stream.
        var events = Channel.CreateUnbounded<QueryEvent>(new UnboundedChannelOptions { SingleReader = true });
        events.Writer.TryWrite(new PlanChosen(plan));
        var execution = new QueryExecution(
            query,
            plan,
            started,
            snapshot,
            async () =>
            {
                catalog.Invalidate();
                return await catalog.GetAsync(CancellationToken.None);
            },
            GrainFactory,
            events.Writer,
            costs,
            options.Value,
            batchWindow,
            logger);
        // The iterator resumes under each MoveNext call's activity; the execution belongs under the query's.
        var previous = Activity.Current;
        Activity.Current = activity;
        var running = RunAsync(query, plan, execution, events.Writer, cancellationToken);
        Activity.Current = previous;
        var interval = options.Value.HeartbeatInterval;
        using var heartbeat = interval > TimeSpan.Zero
            ? time.CreateTimer(static state => ((ChannelWriter<QueryEvent>)state!).TryWrite(QueryHeartbeat.Instance), events.Writer, interval, interval)
            : null;
        await foreach (var e in events.Reader.ReadAllAsync(CancellationToken.None))
        {
            yield return e;
        }

        await running;
    }

    private async Task RunAsync(Query query, QueryPlan plan, QueryExecution execution, ChannelWriter<QueryEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            var result = await execution.RunAsync(cancellationToken);
            Record(query, result);
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
                    Excerpt = query.Question.Length <= 160 ? query.Question : query.Question[..159] + "…",
                    Strategy = plan.Strategy,
                    Rationale = plan.Rationale,
                    Feasible = plan.Feasible,
                    BudgetMet = false,
                    Error = ex.Message,
                }).Ignore();
            }

            events.Complete(ex);
        }
    }

    private void Record(Query query, QueryResult result)
    {
        GrainFactory.GetGrain<IMeshMonitorGrain>(0).RecordDecisionAsync(DecisionRecord.From(query, result, time.GetUtcNow())).Ignore();
        var tags = new TagList { { "strategy", result.Plan.Strategy.ToString() }, { "budget_met", result.BudgetMet } };
        MoeMeshInstrumentation.Queries.Add(1, tags);
        MoeMeshInstrumentation.QueryLatency.Record(result.LatencyMs, tags);
        MoeMeshInstrumentation.QueryEnergy.Record(result.EnergyJoules, tags);
        if (!result.BudgetMet)
        {
            MoeMeshInstrumentation.BudgetViolations.Add(1, tags);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Query {QueryId}: {Strategy} plan [{Experts}] feasible={Feasible}")]
    private static partial void LogPlanned(ILogger logger, string queryId, RoutingStrategy strategy, string experts, bool feasible);
}
