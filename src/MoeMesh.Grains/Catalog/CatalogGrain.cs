using System.Text.Json;
using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Serialization;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace MoeMesh.Grains.Catalog;

/// <summary>
/// The mesh's directory. Silos and manifests come from cluster membership and the silos'
/// published metadata, so nothing is lost when the catalog moves to another silo; replica
/// locations come from the replicas' own reports, which they repeat every few seconds.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed class CatalogGrain(IClusterMembershipService membership, ISiloMetadataCache metadata, TimeProvider time) : Grain, ICatalogGrain
{
    private readonly Dictionary<string, SiloInfo> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Json, ExpertManifest Manifest)> _manifests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplicaStatus> _replicas = new(StringComparer.Ordinal);

    public Task ReportReplicaAsync(ReplicaStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var key = status.Replica.GrainKey;

        // A replica that moved (its old silo died) reports from the new silo; an old silo's late
        // "unloaded" report must not erase the new location.
        if (_replicas.TryGetValue(key, out var current))
        {
            if (status.State == ReplicaState.Unloaded && current.Silo != status.Silo)
            {
                return Task.CompletedTask;
            }

            // One-way reports can overtake each other; a silo's clock orders its own reports.
            if (current.Silo == status.Silo && status.ReportedAt < current.ReportedAt)
            {
                return Task.CompletedTask;
            }
        }

        _replicas[key] = status;
        return Task.CompletedTask;
    }

    public Task<CatalogSnapshot> GetSnapshotAsync()
    {
        var experts = new Dictionary<string, ExpertManifest>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            var name = SiloIdentity.NameOf(member.SiloAddress);
            var state = Map(member.Status);
            var published = metadata.GetSiloMetadata(member.SiloAddress).Metadata;
            var device = DeviceProfileMetadata.FromMetadata(published);
            if (device is not null)
            {
                var hostable = DeviceProfileMetadata.HostedExperts(published);
                foreach (var id in hostable)
                {
                    if (Manifest(published, id) is not { } manifest)
                    {
                        continue;
                    }

                    if (!experts.TryGetValue(id, out var known))
                    {
                        experts[id] = manifest;
                    }
                    else if (!SameExpert(known, manifest))
                    {
                        warnings.Add($"Silos declare different manifests for expert '{id}' (engine, size or skills differ); routing uses the first.");
                    }
                }

                _seen[name] = new SiloInfo
                {
                    Silo = name,
                    Device = device,
                    State = state,
                    HostableExperts = hostable.Order(StringComparer.Ordinal).ToList(),
                    ModelMemoryBudgetBytes = DeviceProfileMetadata.ModelMemoryBudget(published, device),
                    Endpoint = published.GetValueOrDefault(SiloMetadataKeys.Gateway),
                    RegisteredAt = _seen.TryGetValue(name, out var before) ? before.RegisteredAt : time.GetUtcNow(),
                };
            }
            else if (_seen.TryGetValue(name, out var remembered))
            {
                // Metadata is dropped for dead silos; keep showing them, marked dead.
                _seen[name] = remembered with { State = state };
            }
        }

        foreach (var name in _seen.Keys.ToList())
        {
            if (membership.CurrentSnapshot.Members.Values.All(m => SiloIdentity.NameOf(m.SiloAddress) != name))
            {
                _seen[name] = _seen[name] with { State = SiloState.Dead };
            }
        }

        var live = _seen.Values.Where(s => s.State != SiloState.Dead).Select(s => s.Silo).ToHashSet(StringComparer.Ordinal);
        var replicas = _replicas.Values
            .Select(r => live.Contains(r.Silo) ? r : r with { State = ReplicaState.Unloaded, ActiveRequests = 0, ResidentBytes = 0 })
            .OrderBy(r => r.Replica.ExpertId, StringComparer.Ordinal)
            .ThenBy(r => r.Replica.Replica)
            .ToList();
        var silos = _seen.Values
            .Select(s => s with { ModelMemoryUsedBytes = replicas.Where(r => r.Silo == s.Silo && r.State == ReplicaState.Ready).Sum(r => r.ResidentBytes) })
            .OrderBy(s => s.Silo, StringComparer.Ordinal)
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

    private ExpertManifest? Manifest(IReadOnlyDictionary<string, string> published, string id)
    {
        if (!published.TryGetValue(SiloMetadataKeys.ManifestPrefix + id, out var json))
        {
            return null;
        }

        if (_manifests.TryGetValue(id, out var cached) && cached.Json == json)
        {
            return cached.Manifest;
        }

        try
        {
            var manifest = JsonSerializer.Deserialize<ExpertManifest>(json, MoeMeshJson.Options);
            if (manifest is not null)
            {
                _manifests[id] = (json, manifest);
            }

            return manifest;
        }
        catch (JsonException)
        {
            return null;
        }
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
}
