using MoeMesh.Catalog;
using MoeMesh.Monitoring;

namespace MoeMesh.Dashboard.Live;

/// <summary>
/// Reads the mesh through any <see cref="IGrainFactory"/> (a silo's or a client's): the catalog, cached
/// briefly because the API checks model names against it on every request, and the monitor.
/// </summary>
public sealed class MeshReader(IGrainFactory grains, TimeProvider time)
{
    /// <summary>How long a catalog snapshot is reused.</summary>
    public static readonly TimeSpan CatalogMaxAge = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile CachedCatalog? _catalog;

    /// <summary>The catalog, at most <paramref name="maxAge"/> old (default <see cref="CatalogMaxAge"/>).</summary>
    public async Task<CatalogSnapshot> GetCatalogAsync(TimeSpan? maxAge = null, CancellationToken cancellationToken = default)
    {
        var limit = maxAge ?? CatalogMaxAge;
        if (_catalog is { } cached && time.GetUtcNow() - cached.At <= limit)
        {
            return cached.Snapshot;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_catalog is { } again && time.GetUtcNow() - again.At <= limit)
            {
                return again.Snapshot;
            }

            var snapshot = await grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);
            _catalog = new CachedCatalog(snapshot, time.GetUtcNow());
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The monitor's overview with the <paramref name="recentDecisions"/> newest decisions.</summary>
    public Task<MeshOverview> GetOverviewAsync(int recentDecisions, CancellationToken cancellationToken = default)
        => grains.GetGrain<IMeshMonitorGrain>(0).GetOverviewAsync(recentDecisions).WaitAsync(cancellationToken);

    /// <summary>Decisions recorded after <paramref name="sequence"/>, oldest first.</summary>
    public Task<IReadOnlyList<DecisionRecord>> GetDecisionsAfterAsync(long sequence, int max, CancellationToken cancellationToken = default)
        => grains.GetGrain<IMeshMonitorGrain>(0).GetDecisionsAfterAsync(sequence, max).WaitAsync(cancellationToken);

    private sealed record CachedCatalog(CatalogSnapshot Snapshot, DateTimeOffset At);
}
