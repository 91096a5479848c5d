using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Queries;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>One way to run an expert now: the expert on one silo that may host it, with the replica to use.</summary>
/// <param name="Manifest">The expert.</param>
/// <param name="Silo">An active silo that holds its manifest and fits it.</param>
/// <param name="Replica">A replica loaded there, or a free replica index to place there.</param>
/// <param name="Resident">True when that replica is loaded (no load time).</param>
/// <param name="LoadMs">Time a load last took for this expert, when known.</param>
public sealed record LiveCandidate(ExpertManifest Manifest, SiloInfo Silo, int Replica, bool Resident, double? LoadMs)
{
    /// <summary>Where it runs, as plans name it.</summary>
    public MeshPlacement Placement { get; } = new(Manifest.Id, Silo.Silo, Silo.Device.Name, Replica, Resident);
}

/// <summary>Works out where each expert could run for a query.</summary>
public static class LiveCandidates
{
    /// <summary>
    /// Every (expert, silo) the query may use: active silos that hold the expert's manifest, allow
    /// its device kind and have the memory. Honours <see cref="QueryOptions.Experts"/>; unknown ids
    /// there are an error.
    /// </summary>
    public static IReadOnlyList<LiveCandidate> Find(Query query, CatalogSnapshot catalog)
    {
        var wanted = query.Options.Experts;
        if (wanted.Count > 0)
        {
            var unknown = wanted.Where(id => catalog.Experts.All(e => e.Id != id)).ToList();
            if (unknown.Count > 0)
            {
                throw new InvalidRequestException(
                    $"Unknown expert(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the mesh has: {string.Join(", ", catalog.Experts.Select(e => e.Id))}.");
            }
        }

        var active = catalog.Silos.Where(s => s.State == SiloState.Active).ToList();
        var found = new List<LiveCandidate>();
        foreach (var manifest in catalog.Experts)
        {
            if (wanted.Count > 0 && !wanted.Contains(manifest.Id))
            {
                continue;
            }

            var replicas = catalog.Replicas.Where(r => r.Replica.ExpertId == manifest.Id).ToList();
            var loadMs = replicas.Where(r => r.LoadMs > 0).Select(r => (double?)r.LoadMs).Max();
            foreach (var silo in active.Where(s => CanHost(s, manifest)))
            {
                var loaded = replicas
                    .Where(r => r.Silo == silo.Silo && r.State == ReplicaState.Ready)
                    .OrderBy(r => r.ActiveRequests)
                    .FirstOrDefault();
                found.Add(loaded is not null
                    ? new LiveCandidate(manifest, silo, loaded.Replica.Replica, Resident: true, loadMs)
                    : new LiveCandidate(manifest, silo, FreeReplica(manifest, replicas), Resident: false, loadMs));
            }
        }

        return found;
    }

    /// <summary>True when <paramref name="silo"/> may host <paramref name="manifest"/>.</summary>
    public static bool CanHost(SiloInfo silo, ExpertManifest manifest)
        => silo.HostableExperts.Contains(manifest.Id)
           && manifest.Placement.AllowsKind(silo.Device.Kind)
           && manifest.WeightBytes + manifest.Placement.MinFreeMemoryBytes <= silo.ModelMemoryBudgetBytes;

    /// <summary>A replica index with no activation anywhere, so placing it on a chosen silo creates a fresh one there.</summary>
    private static int FreeReplica(ExpertManifest manifest, List<ReplicaStatus> replicas)
    {
        var busy = replicas.Where(r => r.State is ReplicaState.Ready or ReplicaState.Loading).Select(r => r.Replica.Replica).ToHashSet();
        for (var r = 0; ; r++)
        {
            if (!busy.Contains(r))
            {
                return r;
            }
        }
    }
}
