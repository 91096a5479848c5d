using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>An expert the router may use, with the silo it would most likely run on.</summary>
public sealed record ExpertOption(ExpertManifest Manifest, SiloInfo Silo, int Replica, bool Resident);

/// <summary>Works out which experts can serve now and where.</summary>
public static class PlanCandidates
{
    /// <summary>
    /// Experts that an active silo can host, each with the silo its replica runs on (a resident
    /// replica when there is one, else the first active silo that may host it). Honours
    /// <see cref="QueryOptions.Experts"/>; unknown ids there are an error.
    /// </summary>
    public static IReadOnlyList<ExpertOption> Find(Query query, CatalogSnapshot catalog)
    {
        var active = catalog.Silos.Where(s => s.State == SiloState.Active).ToList();
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

        var options = new List<ExpertOption>();
        foreach (var manifest in catalog.Experts)
        {
            if (wanted.Count > 0 && !wanted.Contains(manifest.Id))
            {
                continue;
            }

            var hosts = active
                .Where(s => s.HostableExperts.Contains(manifest.Id) && manifest.Placement.AllowsKind(s.Device.Kind)
                            && manifest.WeightBytes + manifest.Placement.MinFreeMemoryBytes <= s.ModelMemoryBudgetBytes)
                .ToList();
            if (hosts.Count == 0)
            {
                continue;
            }

            var resident = catalog.Replicas
                .Where(r => r.Replica.ExpertId == manifest.Id && r.State == ReplicaState.Ready)
                .Select(r => (Status: r, Silo: hosts.FirstOrDefault(h => h.Silo == r.Silo)))
                .Where(x => x.Silo is not null)
                .OrderBy(x => x.Status.ActiveRequests)
                .FirstOrDefault();
            options.Add(resident.Silo is { } silo
                ? new ExpertOption(manifest, silo, resident.Status.Replica.Replica, Resident: true)
                : new ExpertOption(manifest, hosts[0], Replica: 0, Resident: false));
        }

        return options;
    }

    /// <summary>A device's identity for "experts on one device run one after another".</summary>
    public static string DeviceKey(SiloInfo silo) => silo.Silo;

    /// <summary>True for devices with local energy use.</summary>
    public static bool UsesLocalEnergy(DeviceProfile device) => device.Kind != DeviceKind.Cloud;
}
