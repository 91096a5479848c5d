using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Queries;
using Polly;
using Polly.Retry;

namespace MoeMesh.Client;

/// <summary>
/// The SDK's client: queries go to a router grain on a gateway silo. When the silo running the
/// query's router fails mid-query (the call fails, or the stream stays silent past
/// <see cref="MoeMeshClientOptions.RouterSilenceTimeout"/> although routers send heartbeats), the
/// query is asked again through another router, up to <see cref="MoeMeshClientOptions.MaxQueryRetries"/>
/// times, after a <see cref="QueryNotice"/>. The retries and their exponential backoff with jitter
/// come from a Polly pipeline. Heartbeats are not passed on.
/// </summary>
public sealed class MoeMeshClient : IMoeMeshClient
{
    /// <summary>Router grain keys the client spreads queries over, so they reach every gateway's silo.</summary>
    internal const int RouterKeys = 64;

    /// <summary>The longest wait between two attempts.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private static readonly ResiliencePropertyKey<ChannelWriter<QueryEvent>> NoticeOutput = new("moemesh.notices");

    private readonly IGrainFactory _grains;
    private readonly MoeMeshClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retries;

    /// <summary>Creates the client over a connected grain factory; <paramref name="options"/> default to <see cref="MoeMeshClientOptions"/>'s.</summary>
    public MoeMeshClient(IGrainFactory grains, MoeMeshClientOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _grains = grains;
        _options = options ?? new MoeMeshClientOptions();
        _time = time ?? TimeProvider.System;
        _retries = BuildRetries(_options, _time);
    }

    public async Task<QueryResult> AskAsync(Query query, CancellationToken cancellationToken = default)
    {
        QueryResult? result = null;
        await foreach (var e in StreamAsync(query, cancellationToken))
        {
            if (e is QueryCompleted completed)
            {
                result = completed.Result;
            }
        }

        return result ?? throw new MoeMeshException($"Query {query.Id} ended without a result.");
    }

    public async IAsyncEnumerable<QueryEvent> StreamAsync(Query query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);

        // Reject bad input here, before it costs a round trip; the router checks again.
        InvalidRequestException.ThrowIfAny(query.Validate(), "query");

        // Attempts run under the retry pipeline and write to this channel; the caller reads it.
        var output = Channel.CreateUnbounded<QueryEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = RunWithRetriesAsync(query, output.Writer, stop.Token);
        try
        {
            await foreach (var e in output.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }

            await run;
        }
        finally
        {
            if (!run.IsCompleted)
            {
                // The caller stopped reading early: end the attempt instead of leaving it running.
                await stop.CancelAsync();
                await run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    public Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default)
        => _grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);

    /// <summary>
    /// The retry pipeline: <see cref="MoeMeshClientOptions.RetryDelay"/> doubling up to
    /// <see cref="MaxRetryDelay"/>, with jitter unless turned off; only failures of the mesh are retried.
    /// </summary>
    internal static ResiliencePipeline BuildRetries(MoeMeshClientOptions options, TimeProvider time)
    {
        if (options.MaxQueryRetries <= 0)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxQueryRetries,
                Delay = options.RetryDelay,
                MaxDelay = MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.RetryJitter,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && IsInfrastructureFailure(ex, args.Context.CancellationToken)),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(NoticeOutput, out var notices))
                    {
                        notices.TryWrite(new QueryNotice(
                            $"Lost the silo running this query ({args.Outcome.Exception!.GetBaseException().Message}); asking the mesh again (attempt {args.AttemptNumber + 2})."));
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    private async Task RunWithRetriesAsync(Query query, ChannelWriter<QueryEvent> output, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(NoticeOutput, output);
        try
        {
            await _retries.ExecuteAsync(
                static (context, state) => new ValueTask(state.client.RunAttemptAsync(state.query, state.output, context.CancellationToken)),
                context,
                (client: this, query, output));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            output.TryComplete();
        }
    }

    /// <summary>
    /// One attempt through one router: passes its events on until the answer, and throws when the
    /// router's silo is lost (the call fails, or the stream stays silent too long).
    /// </summary>
    private async Task RunAttemptAsync(Query query, ChannelWriter<QueryEvent> output, CancellationToken cancellationToken)
    {
        var router = _grains.GetGrain<IRouterGrain>(Random.Shared.Next(RouterKeys));
        var attemptCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var events = router.RunAsync(query, attemptCancellation.Token).GetAsyncEnumerator(attemptCancellation.Token);
        Task<bool>? waiting = null;
        var completed = false;
        var lost = false;
        try
        {
            while (true)
            {
                var move = events.MoveNextAsync();
                bool more;
                if (move.IsCompleted)
                {
                    more = move.GetAwaiter().GetResult();
                }
                else
                {
                    waiting = move.AsTask();
                    more = await WaitForEventAsync(waiting, cancellationToken);
                    waiting = null;
                }

                if (!more)
                {
                    return;
                }

                if (events.Current is QueryHeartbeat)
                {
                    continue;
                }

                completed = events.Current is QueryCompleted;
                output.TryWrite(events.Current);
                if (completed)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (IsInfrastructureFailure(ex, cancellationToken))
        {
            lost = true;
            throw;
        }
        finally
        {
            if (completed)
            {
                // The answer is in: letting go of the stream must not hold the caller up, even if
                // the router's silo dies right now.
                Abandon(events, waiting: null, attemptCancellation, cancel: false);
            }
            else if (!lost && waiting is null or { IsCompleted: true })
            {
                await events.DisposeAsync();
                attemptCancellation.Dispose();
            }
            else
            {
                // The router's silo may be gone: do not wait on it to let go of the stream.
                Abandon(events, waiting, attemptCancellation, cancel: true);
            }
        }
    }

    /// <summary>The stream-silence watchdog: a router that sends nothing, not even a heartbeat, counts as lost.</summary>
    private async Task<bool> WaitForEventAsync(Task<bool> waiting, CancellationToken cancellationToken)
    {
        if (_options.RouterSilenceTimeout is not { } silence)
        {
            return await waiting.WaitAsync(cancellationToken);
        }

        try
        {
            return await waiting.WaitAsync(silence, _time, cancellationToken);
        }
        catch (TimeoutException) when (!waiting.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the router sent nothing for {silence.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Failures of the mesh rather than of the query: a lost silo or connection. Retrying can help.</summary>
    private static bool IsInfrastructureFailure(Exception ex, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested
           && ex is not MoeMeshException and not OperationCanceledException and not ArgumentException;

    private static void Abandon(IAsyncEnumerator<QueryEvent> events, Task<bool>? waiting, CancellationTokenSource cancellation, bool cancel)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                if (cancel)
                {
                    await cancellation.CancelAsync();
                }

                if (waiting is not null)
                {
                    await waiting;
                }
            }
            catch
            {
                // The attempt is over; how its call ends no longer matters.
            }

            try
            {
                await events.DisposeAsync();
            }
            catch
            {
                // As above.
            }

            cancellation.Dispose();
        });
    }
}
