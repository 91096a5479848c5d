using System.Runtime.CompilerServices;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>
/// The SDK's client: queries go to a router grain on a gateway silo. When the silo running the
/// query's router fails mid-query, the query is run again through another gateway (up to
/// <see cref="MoeMeshClientOptions.MaxQueryRetries"/> times), after a <see cref="QueryNotice"/>.
/// </summary>
public sealed class MoeMeshClient(IGrainFactory grains, int maxQueryRetries = MoeMeshClientOptions.DefaultMaxQueryRetries) : IMoeMeshClient
{
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
            var router = grains.GetGrain<IRouterGrain>(Random.Shared.Next(RouterKeys));
            await using (var events = router.RunAsync(query, cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (true)
                {
                    try
                    {
                        if (!await events.MoveNextAsync())
                        {
                            yield break;
                        }
                    }
                    catch (Exception ex) when (IsInfrastructureFailure(ex, cancellationToken) && attempt < maxQueryRetries)
                    {
                        failure = ex;
                        break;
                    }

                    yield return events.Current;
                    if (events.Current is QueryCompleted)
                    {
                        yield break;
                    }
                }
            }

            yield return new QueryNotice($"Lost the silo running this query ({failure.GetBaseException().Message}); asking the mesh again (attempt {attempt + 2}).");
        }
    }

    /// <summary>Router grain keys the client spreads queries over, so they reach every gateway's silo.</summary>
    internal const int RouterKeys = 64;

    public Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default)
        => grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);

    /// <summary>Failures of the mesh rather than of the query: a lost silo or connection. Retrying can help.</summary>
    private static bool IsInfrastructureFailure(Exception ex, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested
           && ex is not MoeMeshException and not OperationCanceledException and not ArgumentException;
}
