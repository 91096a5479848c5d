using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Grains.Catalog;

/// <summary>
/// The mesh's directory, kept in memory. Silos re-register periodically and replicas re-report,
/// so a catalog re-activated elsewhere (after its silo died) rebuilds itself within seconds.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class CatalogGrain(IClusterMembershipService membership, TimeProvider time, ILogger<CatalogGrain> logger) : Grain, ICatalogGrain
{
    private readonly Dictionary<string, Registered> _silos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplicaStatus> _replicas = new(StringComparer.Ordinal);

    public Task RegisterSiloAsync(SiloRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var isNew = !_silos.ContainsKey(registration.Silo);
        _silos[registration.Silo] = new Registered(registration, _silos.TryGetValue(registration.Silo, out var existing) ? existing.At : time.GetUtcNow());
        if (isNew)
        {
            LogRegistered(logger, registration.Silo, registration.Device.Name, registration.Experts.Count);
        }

        return Task.CompletedTask;
    }

    public Task ReportReplicaAsync(ReplicaStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var key = status.Replica.GrainKey;

        // A replica that moved (its old silo died) reports from the new silo; an old silo's late
        // "unloaded" report must not erase the new location.
        if (status.State == ReplicaState.Unloaded && _replicas.TryGetValue(key, out var current) && current.Silo != status.Silo)
        {
            return Task.CompletedTask;
        }

        _replicas[key] = status;
        return Task.CompletedTask;
    }

    public Task<CatalogSnapshot> GetSnapshotAsync()
    {
        var members = membership.CurrentSnapshot.Members.Values.ToDictionary(m => SiloIdentity.NameOf(m.SiloAddress), m => m.Status, StringComparer.Ordinal);
        var silos = new List<SiloInfo>();
        var experts = new Dictionary<string, ExpertManifest>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var (name, entry) in _silos.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var state = members.TryGetValue(name, out var status) ? Map(status) : SiloState.Dead;
            var used = _replicas.Values
                .Where(r => r.Silo == name && r.State == ReplicaState.Ready)
                .Sum(r => r.ResidentBytes);
            silos.Add(new SiloInfo
            {
                Silo = name,
                Device = entry.Registration.Device,
                State = state,
                HostableExperts = entry.Registration.Experts.Select(e => e.Id).ToList(),
                ModelMemoryBudgetBytes = entry.Registration.ModelMemoryBudgetBytes,
                ModelMemoryUsedBytes = used,
                Endpoint = entry.Registration.Endpoint,
                RegisteredAt = entry.At,
            });

            foreach (var manifest in entry.Registration.Experts)
            {
                if (!experts.TryGetValue(manifest.Id, out var known))
                {
                    experts[manifest.Id] = manifest;
                }
                else if (!SameExpert(known, manifest))
                {
                    warnings.Add($"Silos declare different manifests for expert '{manifest.Id}' (engine, size or skills differ); routing uses the first.");
                }
            }
        }

        var liveSilos = silos.Where(s => s.State != SiloState.Dead).Select(s => s.Silo).ToHashSet(StringComparer.Ordinal);
        var replicas = _replicas.Values
            .Select(r => liveSilos.Contains(r.Silo) ? r : r with { State = ReplicaState.Unloaded, ActiveRequests = 0 })
            .OrderBy(r => r.Replica.ExpertId, StringComparer.Ordinal)
            .ThenBy(r => r.Replica.Replica)
            .ToList();

        return Task.FromResult(new CatalogSnapshot
        {
            Silos = silos,
            Experts = experts.Values.OrderBy(e => e.Id, StringComparer.Ordinal).ToList(),
            Replicas = replicas,
            Warnings = warnings.Distinct().ToList(),
            TakenAt = time.GetUtcNow(),
        });
    }

    private static bool SameExpert(ExpertManifest a, ExpertManifest b)
        => a.Engine == b.Engine
           && a.ParameterCount == b.ParameterCount
           && a.Quantization == b.Quantization
           && a.Skills.SequenceEqual(b.Skills);

    private static SiloState Map(SiloStatus status) => status switch
    {
        SiloStatus.Active => SiloState.Active,
        SiloStatus.Created or SiloStatus.Joining => SiloState.Joining,
        SiloStatus.ShuttingDown or SiloStatus.Stopping => SiloState.ShuttingDown,
        _ => SiloState.Dead,
    };

    private sealed record Registered(SiloRegistration Registration, DateTimeOffset At);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} ({Device}) joined the catalog with {ExpertCount} hostable experts")]
    private static partial void LogRegistered(ILogger logger, string silo, string device, int expertCount);
}
