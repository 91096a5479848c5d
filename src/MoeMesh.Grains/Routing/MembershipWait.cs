using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Waits for membership to stop counting a silo as active. A call lost while addressing a grain
/// (the grain directory partition lives on a killed silo) fails the same way on every retry until
/// membership declares that silo dead and the partition moves; retrying sooner only spends failovers.
/// </summary>
public static class MembershipWait
{
    /// <summary>
    /// True once <paramref name="silo"/> is no longer active in <paramref name="membership"/>; false when
    /// <paramref name="limit"/> passes first. Cancellation of <paramref name="cancellationToken"/> is thrown.
    /// </summary>
    public static async Task<bool> UntilNotActiveAsync(IClusterMembershipService membership, string silo, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(membership);
        if (!IsActive(membership.CurrentSnapshot, silo))
        {
            return true;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = time.CreateTimer(_ => bounded.Cancel(), null, limit, Timeout.InfiniteTimeSpan);
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(bounded.Token))
            {
                if (!IsActive(snapshot, silo))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The limit passed.
        }

        return false;
    }

    /// <summary>True when <paramref name="snapshot"/> lists <paramref name="silo"/> as active.</summary>
    public static bool IsActive(ClusterMembershipSnapshot snapshot, string silo)
        => snapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && SiloIdentity.NameOf(m.SiloAddress) == silo);
}
