using System.Runtime.CompilerServices;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>
/// The SDK's client: queries go to a router grain on a gateway silo. When the silo running the
/// query's router fails mid-query (the call fails, or the stream stays silent past
/// <see cref="MoeMeshClientOptions.RouterSilenceTimeout"/> although routers send heartbeats), the
/// query is asked again through another router after a growing delay, up to
/// <see cref="MoeMeshClientOptions.MaxQueryRetries"/> times, after a <see cref="QueryNotice"/>.
/// Heartbeats are not passed on.
/// </summary>
public sealed class MoeMeshClient : IMoeMeshClient
{
    /// <summary>Router grain keys the client spreads queries over, so they reach every gateway's silo.</summary>
    internal const int RouterKeys = 64;

    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly IGrainFactory _grains;
    private readonly MoeMeshClientOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the client over a connected grain factory; <paramref name="options"/> default to <see cref="MoeMeshClientOptions"/>'s.</summary>
    public MoeMeshClient(IGrainFactory grains, MoeMeshClientOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        _grains = grains;
        _options = options ?? new MoeMeshClientOptions();
        _time = time ?? TimeProvider.System;
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
        for (var attempt = 0; ; attempt++)
        {
            Exception? failure = null;
            var router = _grains.GetGrain<IRouterGrain>(Random.Shared.Next(RouterKeys));
            var attemptCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var events = router.RunAsync(query, attemptCancellation.Token).GetAsyncEnumerator(attemptCancellation.Token);
            Task<bool>? waiting = null;
            var completed = false;
            try
            {
                while (true)
                {
                    try
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
                            more = _options.RouterSilenceTimeout is { } silence
                                ? await waiting.WaitAsync(silence, _time, cancellationToken)
                                : await waiting;
                            waiting = null;
                        }

                        if (!more)
                        {
                            yield break;
                        }
                    }
                    catch (TimeoutException) when (waiting is { IsCompleted: false } && !cancellationToken.IsCancellationRequested && attempt < _options.MaxQueryRetries)
                    {
                        failure = new TimeoutException($"the router sent nothing for {_options.RouterSilenceTimeout!.Value.TotalSeconds:0.#} s");
                        break;
                    }
                    catch (Exception ex) when (IsInfrastructureFailure(ex, cancellationToken) && attempt < _options.MaxQueryRetries)
                    {
                        failure = ex;
                        break;
                    }

                    if (events.Current is QueryHeartbeat)
                    {
                        continue;
                    }

                    if (events.Current is QueryCompleted)
                    {
                        completed = true;
                    }

                    yield return events.Current;
                    if (completed)
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                if (completed)
                {
                    // The answer is in: letting go of the stream must not hold the caller up, even if
                    // the router's silo dies right now.
                    Abandon(events, waiting: null, attemptCancellation, cancel: false);
                }
                else if (failure is null && waiting is null or { IsCompleted: true })
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

            yield return new QueryNotice($"Lost the silo running this query ({failure.GetBaseException().Message}); asking the mesh again (attempt {attempt + 2}).");
            await Task.Delay(RetryDelay(attempt), _time, cancellationToken);
        }
    }

    public Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default)
        => _grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);

    /// <summary>The wait before retry <paramref name="attempt"/> + 1: <see cref="MoeMeshClientOptions.RetryDelay"/>, doubling, at most 5 s.</summary>
    internal TimeSpan RetryDelay(int attempt)
        => TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, _options.RetryDelay.Ticks * (1L << Math.Min(attempt, 16))));

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
