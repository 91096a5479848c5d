using System.Collections.Concurrent;
using MoeMesh.Experts;
using MoeMesh.Grains.Experts;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>
/// The router's references to expert replicas, made once per replica. A grain reference is
/// immutable and safe to share, while making one resolves the grain's interface by reflection
/// every time, a cost each query paid before its call.
/// </summary>
internal sealed class ExpertReferences(IGrainFactory grains)
{
    // Replicas come and go with the catalog; past this many the cache starts over rather than grow.
    private const int MaxReferences = 4096;

    private readonly ConcurrentDictionary<ExpertReplica, IExpertGrain> _byReplica = new();

    /// <summary>The grain of <paramref name="replica"/>.</summary>
    public IExpertGrain Of(ExpertReplica replica)
    {
        if (_byReplica.TryGetValue(replica, out var known))
        {
            return known;
        }

        if (_byReplica.Count >= MaxReferences)
        {
            _byReplica.Clear();
        }

        return _byReplica.GetOrAdd(replica, static (r, factory) => factory.GetGrain<IExpertGrain>(r.GrainKey), grains);
    }
}
