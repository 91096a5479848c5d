using System.Runtime.CompilerServices;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>The SDK's client: queries go to a router grain on the gateway silo.</summary>
public sealed class MoeMeshClient(IGrainFactory grains) : IMoeMeshClient
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
        var router = grains.GetGrain<IRouterGrain>(0);
        await foreach (var e in router.RunAsync(query, cancellationToken).WithCancellation(cancellationToken))
        {
            yield return e;
        }
    }

    public Task<CatalogSnapshot> GetStatusAsync(CancellationToken cancellationToken = default)
        => grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);
}
