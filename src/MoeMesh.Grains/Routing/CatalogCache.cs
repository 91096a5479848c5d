using MoeMesh.Catalog;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// A per-silo copy of the catalog snapshot, refreshed at most every <see cref="MaxAge"/>, so
/// routing decisions do not all funnel through the catalog grain.
/// </summary>
public sealed class CatalogCache(IGrainFactory grains, TimeProvider time)
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private CatalogSnapshot? _snapshot;
    private long _takenAt;

    /// <summary>A snapshot no older than <see cref="MaxAge"/>.</summary>
    public async ValueTask<CatalogSnapshot> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_snapshot is { } fresh && time.GetElapsedTime(Volatile.Read(ref _takenAt)) < MaxAge)
        {
            return fresh;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } again && time.GetElapsedTime(Volatile.Read(ref _takenAt)) < MaxAge)
            {
                return again;
            }

            var snapshot = await grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync();
            _snapshot = snapshot;
            Volatile.Write(ref _takenAt, time.GetTimestamp());
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The device of <paramref name="silo"/> in the latest snapshot, if known.</summary>
    public Devices.DeviceProfile? TryGetDevice(string silo)
        => _snapshot?.Silos.FirstOrDefault(s => s.Silo == silo)?.Device;

    /// <summary>Forgets the snapshot so the next read fetches a new one (after a silo failure, say).</summary>
    public void Invalidate() => Volatile.Write(ref _takenAt, 0);
}
