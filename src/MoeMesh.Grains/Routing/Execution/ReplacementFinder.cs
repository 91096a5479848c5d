using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>A step to run instead of a failed one.</summary>
/// <param name="Step">The replacement step.</param>
/// <param name="HintSilo">The silo to place a fresh replica on; null when the replica is loaded already.</param>
internal sealed record Replacement(PlannedStep Step, string? HintSilo);

/// <summary>
/// Finds where a failed step can run instead: the same expert on another loaded replica, else a
/// fresh replica on a live silo that may host it, else the best-scored expert the router considered
/// that is not in the plan yet. Each alternative expert is handed out once per query.
/// </summary>
internal sealed class ReplacementFinder(QueryPlan plan, IReadOnlyDictionary<string, ExpertManifest> manifests)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _inPlan = plan.Steps.Select(s => s.ExpertId).ToHashSet(StringComparer.Ordinal);

    /// <summary>The replacement for <paramref name="failed"/> after <paramref name="run"/> failed; null when none is left.</summary>
    /// <param name="failed">The step that failed.</param>
    /// <param name="run">Its failed run (the replica it used).</param>
    /// <param name="catalog">The mesh as last seen.</param>
    /// <param name="suspects">Silos to keep away from: they failed during this query.</param>
    public Replacement? Find(PlannedStep failed, ExpertRun run, CatalogSnapshot catalog, IReadOnlySet<string> suspects)
    {
        ArgumentNullException.ThrowIfNull(failed);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(suspects);
        var live = catalog.Silos.Where(s => s.State == SiloState.Active && !suspects.Contains(s.Silo)).ToList();
        if (manifests.TryGetValue(failed.ExpertId, out var manifest) && SameExpert(failed, run, manifest, catalog, live) is { } same)
        {
            return same;
        }

        return OtherExpert(failed, catalog, live);
    }

    /// <summary>The same expert elsewhere: a loaded replica first, else a fresh replica placed on a live silo that may host it.</summary>
    private static Replacement? SameExpert(PlannedStep failed, ExpertRun run, ExpertManifest manifest, CatalogSnapshot catalog, List<SiloInfo> live)
    {
        var loaded = catalog.Replicas.FirstOrDefault(r => r.Replica.ExpertId == failed.ExpertId && r.State == ReplicaState.Ready
                                                           && live.Any(s => s.Silo == r.Silo) && r.Replica.Replica != run.Replica);
        if (loaded is not null)
        {
            var silo = live.First(s => s.Silo == loaded.Silo);
            return new Replacement(failed with { Replica = loaded.Replica.Replica, Silo = silo.Silo, DeviceName = silo.Device.Name, Resident = true }, null);
        }

        var host = live.FirstOrDefault(s => LiveCandidates.CanHost(s, manifest));
        if (host is null)
        {
            return null;
        }

        var used = catalog.Replicas.Where(r => r.Replica.ExpertId == failed.ExpertId).Select(r => r.Replica.Replica).Append(run.Replica).Append(failed.Replica);
        var fresh = Math.Max(manifest.Replicas, used.Max() + 1);
        return new Replacement(failed with { Replica = fresh, Silo = host.Silo, DeviceName = host.Device.Name, Resident = false }, host.Silo);
    }

    /// <summary>Another expert the router considered, best score first, that is not already in the plan.</summary>
    private Replacement? OtherExpert(PlannedStep failed, CatalogSnapshot catalog, List<SiloInfo> live)
    {
        foreach (var candidate in plan.Candidates.Where(c => !InPlan(c.ExpertId)).OrderByDescending(c => c.Score))
        {
            if (!manifests.TryGetValue(candidate.ExpertId, out var alternative))
            {
                continue;
            }

            var host = live.FirstOrDefault(s => LiveCandidates.CanHost(s, alternative));
            if (host is null)
            {
                continue;
            }

            lock (_gate)
            {
                if (!_inPlan.Add(candidate.ExpertId))
                {
                    continue;
                }
            }

            var resident = catalog.Replicas.FirstOrDefault(r => r.Replica.ExpertId == alternative.Id && r.State == ReplicaState.Ready && r.Silo == host.Silo);
            return new Replacement(
                new PlannedStep
                {
                    ExpertId = alternative.Id,
                    Replica = resident?.Replica.Replica ?? 0,
                    Role = failed.Role,
                    Silo = host.Silo,
                    DeviceName = host.Device.Name,
                    Weight = Math.Max(candidate.Score, 1e-3),
                    PredictedLatencyMs = candidate.PredictedLatencyMs,
                    PredictedEnergyJoules = candidate.PredictedEnergyJoules,
                    Resident = resident is not null,
                },
                resident is null ? host.Silo : null);
        }

        return null;
    }

    private bool InPlan(string expertId)
    {
        lock (_gate)
        {
            return _inPlan.Contains(expertId);
        }
    }
}
