using System.Collections.Concurrent;
using MoeMesh.Catalog;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// A per-silo copy of the catalog snapshot, refreshed at most every <see cref="MaxAge"/>, so
/// routing decisions do not all funnel through the catalog grain. A snapshot a little past its age
/// still serves while one refresh runs in the background, so queries never wait on the catalog
/// grain in steady state (they did, once a second, which showed in the tail). It also remembers silos this
/// silo could not reach, and shows them as dead for <see cref="UnreachableFor"/>: membership takes
/// seconds to declare a killed silo dead, and until then every plan would try it first.
/// </summary>
public sealed class CatalogCache(IGrainFactory grains, TimeProvider time)
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    /// <summary>How long a silo that could not be reached stays out of plans.</summary>
    internal static readonly TimeSpan UnreachableFor = TimeSpan.FromSeconds(15);

    /// <summary>After a failed refresh, how long the snapshot in hand serves before the next try.</summary>
    internal static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>How long past <see cref="MaxAge"/> a snapshot still serves while a background refresh runs.</summary>
    internal static readonly TimeSpan StaleFor = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly ConcurrentDictionary<string, long> _unreachableSince = new(StringComparer.Ordinal);
    private CatalogSnapshot? _snapshot;
    private long _takenAt;
    private int _refreshing;

    /// <summary>
    /// A snapshot no older than <see cref="MaxAge"/>, with unreachable silos shown as dead. When the
    /// catalog grain cannot be reached (its silo may be the one that died), the last snapshot serves.
    /// </summary>
    public async ValueTask<CatalogSnapshot> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_snapshot is { } fresh)
        {
            var age = time.GetElapsedTime(Volatile.Read(ref _takenAt));
            if (age < MaxAge)
            {
                return WithoutUnreachable(fresh);
            }

            if (age < MaxAge + StaleFor)
            {
                RefreshInBackground();
                return WithoutUnreachable(fresh);
            }
        }

        return await RefreshAsync(cancellationToken);
    }

    /// <summary>The device of <paramref name="silo"/> in the latest snapshot, if known.</summary>
    public Devices.DeviceProfile? TryGetDevice(string silo)
        => _snapshot?.Silos.FirstOrDefault(s => s.Silo == silo)?.Device;

    /// <summary>Forgets the snapshot so the next read fetches a new one (after a silo failure, say).</summary>
    public void Invalidate() => Volatile.Write(ref _takenAt, 0);

    /// <summary>Records that a message to <paramref name="silo"/> could not be delivered; plans avoid it for a while.</summary>
    public void MarkUnreachable(string silo) => _unreachableSince[silo] = time.GetTimestamp();

    /// <summary>Starts one refresh unless one is running; its failure leaves the snapshot in hand serving.</summary>
    private void RefreshInBackground()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        _ = RunAsync();

        async Task RunAsync()
        {
            try
            {
                await RefreshAsync(CancellationToken.None);
            }
            catch (Exception)
            {
                // RefreshAsync serves the last snapshot on failure; there is always one here.
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        }
    }

    private async ValueTask<CatalogSnapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } again && time.GetElapsedTime(Volatile.Read(ref _takenAt)) < MaxAge)
            {
                return WithoutUnreachable(again);
            }

            CatalogSnapshot snapshot;
            try
            {
                snapshot = await grains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && _snapshot is { } last)
            {
                // Serve what we have and try again shortly.
                Volatile.Write(ref _takenAt, time.GetTimestamp() - (long)((MaxAge - RetryAfter).TotalSeconds * time.TimestampFrequency));
                return WithoutUnreachable(last);
            }

            _snapshot = snapshot;
            Volatile.Write(ref _takenAt, time.GetTimestamp());
            return WithoutUnreachable(snapshot);
        }
        finally
        {
            _refresh.Release();
        }
    }

    private CatalogSnapshot WithoutUnreachable(CatalogSnapshot snapshot)
    {
        if (_unreachableSince.IsEmpty)
        {
            return snapshot;
        }

        List<string>? unreachable = null;
        foreach (var (silo, since) in _unreachableSince)
        {
            if (time.GetElapsedTime(since) >= UnreachableFor)
            {
                _unreachableSince.TryRemove(new KeyValuePair<string, long>(silo, since));
            }
            else
            {
                (unreachable ??= []).Add(silo);
            }
        }

        if (unreachable is null || !snapshot.Silos.Any(s => s.State == SiloState.Active && unreachable.Contains(s.Silo)))
        {
            return snapshot;
        }

        return snapshot with
        {
            Silos = snapshot.Silos.Select(s => s.State == SiloState.Active && unreachable.Contains(s.Silo) ? s with { State = SiloState.Dead } : s).ToList(),
        };
    }
}
