using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Client.Tests;

public sealed class MoeMeshClientTests
{
    // The default 10 s silence timeout: only the silence test shortens it, so a slow machine never
    // mistakes a late reply for a silent router.
    private static MoeMeshClientOptions Fast => new() { RetryDelay = TimeSpan.FromMilliseconds(10) };

    [Fact]
    public async Task A_silent_router_is_abandoned_and_the_query_asked_again()
    {
        var routers = new ScriptedRouters(new SilentRouter(), new AnsweringRouter(heartbeats: 0));
        var client = new MoeMeshClient(routers.Factory, new MoeMeshClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10), RouterSilenceTimeout = TimeSpan.FromMilliseconds(300) });

        var events = await client.StreamAsync(Query.FromPrompt("hi")).ToListAsync();

        var notice = Assert.IsType<QueryNotice>(events.Single(e => e is QueryNotice));
        Assert.Contains("sent nothing for 0.3 s", notice.Message);
        Assert.IsType<QueryCompleted>(events[^1]);
        Assert.Equal(2, routers.Asked);
    }

    [Fact]
    public async Task Heartbeats_keep_a_slow_query_alive_and_are_not_passed_on()
    {
        // 25 heartbeats 200 ms apart: 5 s of work, longer than the 3 s silence timeout, which no
        // gap between heartbeats comes near even on a loaded machine.
        var routers = new ScriptedRouters(new AnsweringRouter(heartbeats: 25));
        var client = new MoeMeshClient(routers.Factory, new MoeMeshClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10), RouterSilenceTimeout = TimeSpan.FromSeconds(3) });

        var events = await client.StreamAsync(Query.FromPrompt("hi")).ToListAsync();

        Assert.DoesNotContain(events, e => e is QueryHeartbeat or QueryNotice);
        Assert.IsType<QueryCompleted>(events[^1]);
        Assert.Equal(1, routers.Asked);
    }

    [Fact]
    public async Task A_lost_silo_is_retried_until_a_router_answers()
    {
        var routers = new ScriptedRouters(new FailingRouter(), new FailingRouter(), new AnsweringRouter(heartbeats: 0));
        var client = new MoeMeshClient(routers.Factory, Fast);

        var result = await client.AskAsync(Query.FromPrompt("hi"));

        Assert.Equal("done", result.Answer);
        Assert.Equal(3, routers.Asked);
    }

    [Fact]
    public async Task Retries_stop_at_the_limit_with_the_last_failure()
    {
        var routers = new ScriptedRouters(new FailingRouter(), new FailingRouter(), new FailingRouter());
        var client = new MoeMeshClient(routers.Factory, new MoeMeshClientOptions { MaxQueryRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(1) });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.AskAsync(Query.FromPrompt("hi")));

        Assert.Contains("silo went away", error.Message);
        Assert.Equal(3, routers.Asked);
    }

    [Fact]
    public async Task Errors_of_the_query_itself_are_not_retried()
    {
        var routers = new ScriptedRouters(new RejectingRouter(), new AnsweringRouter(heartbeats: 0));
        var client = new MoeMeshClient(routers.Factory, Fast);

        await Assert.ThrowsAsync<InvalidRequestException>(() => client.AskAsync(Query.FromPrompt("hi")));

        Assert.Equal(1, routers.Asked);
    }

    [Fact]
    public async Task Retry_delays_double_up_to_five_seconds()
    {
        var routers = new ScriptedRouters([.. Enumerable.Range(0, 8).Select(_ => new FailingRouter())]);
        var time = new InstantTime();
        var client = new MoeMeshClient(routers.Factory, new MoeMeshClientOptions { MaxQueryRetries = 7, RetryDelay = TimeSpan.FromMilliseconds(200), RetryJitter = false, RouterSilenceTimeout = null }, time);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.AskAsync(Query.FromPrompt("hi")));

        Assert.Equal([200, 400, 800, 1600, 3200, 5000, 5000], time.Waits.Select(w => w.TotalMilliseconds).ToArray());
        Assert.Equal(8, routers.Asked);
    }

    [Fact]
    public async Task Jittered_retries_stop_at_the_first_error_of_the_query_itself()
    {
        var routers = new ScriptedRouters(new FailingRouter(), new FailingRouter(), new RejectingRouter(), new AnsweringRouter(heartbeats: 0));
        var time = new InstantTime();
        var client = new MoeMeshClient(routers.Factory, new MoeMeshClientOptions { RetryDelay = TimeSpan.FromMilliseconds(200), RouterSilenceTimeout = null }, time);

        var seen = new List<QueryEvent>();
        await Assert.ThrowsAsync<InvalidRequestException>(async () =>
        {
            await foreach (var e in client.StreamAsync(Query.FromPrompt("hi")))
            {
                seen.Add(e);
            }
        });

        // Two lost silos were retried, each after a notice; the rejected query was not, though retries were left.
        Assert.Equal(3, routers.Asked);
        Assert.Equal(2, seen.OfType<QueryNotice>().Count());
        var waits = time.Waits.Select(w => w.TotalMilliseconds).ToArray();
        Assert.Equal(2, waits.Length);
        Assert.All(waits, w => Assert.InRange(w, 0.001, MoeMeshClient.MaxRetryDelay.TotalMilliseconds));
        Assert.NotEqual([200, 400], waits);
    }

    /// <summary>Records every wait asked of it and ends it at once, so backoff schedules are seen without sleeping.</summary>
    private sealed class InstantTime : TimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _waits = new();

        public IReadOnlyList<TimeSpan> Waits => [.. _waits];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _waits.Enqueue(dueTime);
            return System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Hands out the given routers in order, one per ask, through a grain factory.</summary>
    private sealed class ScriptedRouters(params IRouterGrain[] routers)
    {
        private readonly ConcurrentQueue<IRouterGrain> _routers = new(routers);
        private int _asked;

        public int Asked => _asked;

        public IGrainFactory Factory
        {
            get
            {
                var factory = DispatchProxy.Create<IGrainFactory, GrainFactoryProxy>();
                ((GrainFactoryProxy)(object)factory).Next = () =>
                {
                    Interlocked.Increment(ref _asked);
                    return _routers.TryDequeue(out var router) ? router : throw new InvalidOperationException("no router left");
                };
                return factory;
            }
        }
    }

    /// <summary>Answers <c>GetGrain&lt;IRouterGrain&gt;</c> with the next scripted router; nothing else is expected.</summary>
    public class GrainFactoryProxy : DispatchProxy
    {
        internal Func<IRouterGrain> Next { get; set; } = () => throw new InvalidOperationException();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            => targetMethod is { Name: nameof(IGrainFactory.GetGrain) } && targetMethod.ReturnType == typeof(IRouterGrain)
                ? Next()
                : throw new NotSupportedException($"{targetMethod?.Name} is not scripted");
    }

    private abstract class ScriptedRouter : IRouterGrain
    {
        public abstract IAsyncEnumerable<QueryEvent> RunAsync(Query query, CancellationToken cancellationToken = default);

        protected static QueryCompleted Completed(Query query) => new(new QueryResult
        {
            QueryId = query.Id,
            Answer = "done",
            Plan = new QueryPlan { QueryId = query.Id },
        });
    }

    /// <summary>Its silo is gone: the plan never comes.</summary>
    private sealed class SilentRouter : ScriptedRouter
    {
        public override async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
    }

    private sealed class AnsweringRouter(int heartbeats) : ScriptedRouter
    {
        public override async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return new PlanChosen(new QueryPlan { QueryId = query.Id });
            for (var i = 0; i < heartbeats; i++)
            {
                await Task.Delay(200, cancellationToken);
                yield return QueryHeartbeat.Instance;
            }

            yield return new TokenProduced("done", "a", IsAnswer: true);
            yield return Completed(query);
        }
    }

    private sealed class FailingRouter : ScriptedRouter
    {
        public override async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            throw new InvalidOperationException("the router's silo went away");
#pragma warning disable CS0162 // An iterator needs a yield.
            yield break;
#pragma warning restore CS0162
        }
    }

    private sealed class RejectingRouter : ScriptedRouter
    {
        public override async IAsyncEnumerable<QueryEvent> RunAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            throw new InvalidRequestException("query: bad");
#pragma warning disable CS0162 // An iterator needs a yield.
            yield break;
#pragma warning restore CS0162
        }
    }
}
