using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Monitoring;
using MoeMesh.Serialization;

namespace MoeMesh.Dashboard.Live;

/// <summary>What the dashboard page draws: the catalog's silos and experts joined with the monitor's live figures.</summary>
public sealed record MeshView
{
    public DateTimeOffset At { get; init; }

    public IReadOnlyList<SiloView> Silos { get; init; } = [];

    public IReadOnlyList<ExpertView> Experts { get; init; } = [];

    /// <summary>Chart points, oldest first, one per five-second bucket.</summary>
    public IReadOnlyList<MeshSample> Samples { get; init; } = [];

    /// <summary>The newest decision's sequence number in the monitor.</summary>
    public long LastSequence { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>One silo on the cluster map.</summary>
public sealed record SiloView
{
    public required string Silo { get; init; }

    public required DeviceProfile Device { get; init; }

    /// <summary>"active", "joining", "shuttingDown" or "dead" from the cluster membership; "unregistered" when only telemetry knows it.</summary>
    public required string State { get; init; }

    public string? Endpoint { get; init; }

    public double? PowerWatts { get; init; }

    public string MeterKind { get; init; } = "model";

    public string MeterSource { get; init; } = "";

    public double EnergyJoules { get; init; }

    public long MemoryUsedBytes { get; init; }

    public long MemoryBudgetBytes { get; init; }

    /// <summary>Loaded replicas ("expert/replica").</summary>
    public IReadOnlyList<string> ResidentExperts { get; init; } = [];

    public IReadOnlyList<string> HostableExperts { get; init; } = [];

    public int ActiveGenerations { get; init; }

    /// <summary>Generations still running although their query was cancelled; above 0 for long means cancellation leaks.</summary>
    public int CancelledGenerationsRunning { get; init; }

    public long Loads { get; init; }

    public long Evictions { get; init; }

    /// <summary>When the silo last reported telemetry; null if it never did.</summary>
    public DateTimeOffset? ReportedAt { get; init; }
}

/// <summary>One expert: its manifest, where its replicas are and how it performs.</summary>
public sealed record ExpertView
{
    public required string Id { get; init; }

    public required string Title { get; init; }

    public IReadOnlyList<string> Skills { get; init; } = [];

    public string Quantization { get; init; } = "";

    public long ParameterCount { get; init; }

    public long WeightBytes { get; init; }

    public bool Pinned { get; init; }

    /// <summary>Replicas the manifest asks for.</summary>
    public int ReplicasWanted { get; init; }

    public IReadOnlyList<ReplicaView> Replicas { get; init; } = [];

    /// <summary>Generations running or queued now, over all replicas.</summary>
    public int Load { get; init; }

    public long Runs { get; init; }

    public long Failures { get; init; }

    public double P50LatencyMs { get; init; }

    public double P99LatencyMs { get; init; }

    public double TokensPerSecond { get; init; }

    public double JoulesPerToken { get; init; }

    /// <summary>Silos (device names) with a loaded replica.</summary>
    public IReadOnlyList<string> ResidentOn { get; init; } = [];
}

/// <summary>One replica of an expert.</summary>
public sealed record ReplicaView
{
    public int Replica { get; init; }

    public required string Silo { get; init; }

    public string? Device { get; init; }

    /// <summary>"loading", "ready", "failed" or "unloaded".</summary>
    public required string State { get; init; }

    public int ActiveRequests { get; init; }

    public long ServedRequests { get; init; }

    public string? Error { get; init; }
}

/// <summary>Joins a catalog snapshot with a monitor overview.</summary>
public static class MeshViewBuilder
{
    public static MeshView Build(CatalogSnapshot catalog, MeshOverview overview, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(overview);
        var telemetry = overview.Silos.ToDictionary(s => s.Silo, StringComparer.Ordinal);
        var silos = new List<SiloView>();
        foreach (var info in catalog.Silos)
        {
            telemetry.TryGetValue(info.Silo, out var t);
            silos.Add(SiloOf(info, t));
        }

        foreach (var t in overview.Silos.Where(t => catalog.Silos.All(s => s.Silo != t.Silo)))
        {
            silos.Add(new SiloView
            {
                Silo = t.Silo,
                Device = t.Device,
                State = "unregistered",
                PowerWatts = t.PowerWatts,
                MeterKind = t.MeterKind.ToWireName(),
                MeterSource = t.MeterSource,
                EnergyJoules = t.EnergyJoules,
                MemoryUsedBytes = t.ModelMemoryUsedBytes,
                MemoryBudgetBytes = t.ModelMemoryBudgetBytes,
                ResidentExperts = t.ResidentExperts,
                ActiveGenerations = t.ActiveGenerations,
                CancelledGenerationsRunning = t.CancelledGenerationsRunning,
                Loads = t.Loads,
                Evictions = t.Evictions,
                ReportedAt = t.At,
            });
        }

        var deviceOf = silos.ToDictionary(s => s.Silo, s => s.Device.Name, StringComparer.Ordinal);
        var loaded = silos.SelectMany(s => s.ResidentExperts.Select(r => (s.Silo, Replica: r))).ToHashSet();
        var stats = overview.Experts.ToDictionary(e => e.ExpertId, StringComparer.Ordinal);
        var replicas = catalog.Replicas.ToLookup(r => r.Replica.ExpertId, StringComparer.Ordinal);
        var experts = new List<ExpertView>();
        foreach (var manifest in catalog.Experts)
        {
            experts.Add(ExpertOf(manifest, replicas[manifest.Id], stats.GetValueOrDefault(manifest.Id), deviceOf, loaded));
        }

        foreach (var orphan in overview.Experts.Where(e => catalog.Experts.All(m => m.Id != e.ExpertId)))
        {
            experts.Add(new ExpertView
            {
                Id = orphan.ExpertId,
                Title = orphan.ExpertId,
                Runs = orphan.Runs,
                Failures = orphan.Failures,
                P50LatencyMs = orphan.P50LatencyMs,
                P99LatencyMs = orphan.P99LatencyMs,
                TokensPerSecond = orphan.TokensPerSecond,
                JoulesPerToken = orphan.JoulesPerToken,
                ResidentOn = orphan.ResidentOn.Select(s => deviceOf.GetValueOrDefault(s, s)).ToList(),
            });
        }

        return new MeshView
        {
            At = at,
            Silos = silos,
            Experts = experts,
            Samples = overview.Samples,
            LastSequence = overview.LastSequence,
            Warnings = catalog.Warnings,
        };
    }

    /// <summary>A registered silo as the catalog lists it, with what it last reported.</summary>
    private static SiloView SiloOf(SiloInfo info, SiloTelemetry? t)
    {
        var dead = info.State == SiloState.Dead;
        return new SiloView
        {
            Silo = info.Silo,
            Device = info.Device,
            State = StateName(info.State),
            Endpoint = info.Endpoint,

            // A dead silo draws nothing and holds nothing, whatever it last reported.
            PowerWatts = dead ? null : t?.PowerWatts,
            MeterKind = (t?.MeterKind ?? Generation.MeterKind.Model).ToWireName(),
            MeterSource = t?.MeterSource ?? "",
            EnergyJoules = t?.EnergyJoules ?? 0,
            MemoryUsedBytes = dead ? 0 : t?.ModelMemoryUsedBytes ?? info.ModelMemoryUsedBytes,
            MemoryBudgetBytes = t?.ModelMemoryBudgetBytes is > 0 and var budget ? budget : info.ModelMemoryBudgetBytes,
            ResidentExperts = dead ? [] : t?.ResidentExperts ?? [],
            HostableExperts = info.HostableExperts,
            ActiveGenerations = dead ? 0 : t?.ActiveGenerations ?? 0,
            CancelledGenerationsRunning = dead ? 0 : t?.CancelledGenerationsRunning ?? 0,
            Loads = t?.Loads ?? 0,
            Evictions = t?.Evictions ?? 0,
            ReportedAt = t?.At,
        };
    }

    private static ExpertView ExpertOf(
        ExpertManifest manifest,
        IEnumerable<ReplicaStatus> replicas,
        ExpertStats? stats,
        Dictionary<string, string> deviceOf,
        HashSet<(string Silo, string Replica)> loaded)
    {
        var views = replicas
            .OrderBy(r => r.Replica.Replica)
            .Select(r => new ReplicaView
            {
                Replica = r.Replica.Replica,
                Silo = r.Silo,
                Device = deviceOf.GetValueOrDefault(r.Silo),
                // Replica reports are one-way messages; the silo's own telemetry settles a stale "loading".
                State = r.State == ReplicaState.Loading && loaded.Contains((r.Silo, r.Replica.GrainKey)) ? "ready" : ReplicaStateName(r.State),
                ActiveRequests = r.ActiveRequests,
                ServedRequests = r.ServedRequests,
                Error = r.Error,
            })
            .ToList();
        return new ExpertView
        {
            Id = manifest.Id,
            Title = manifest.Title,
            Skills = manifest.Skills,
            Quantization = manifest.Quantization,
            ParameterCount = manifest.ParameterCount,
            WeightBytes = manifest.WeightBytes,
            Pinned = manifest.Pinned,
            ReplicasWanted = manifest.Replicas,
            Replicas = views,
            Load = views.Sum(v => v.ActiveRequests),
            Runs = stats?.Runs ?? 0,
            Failures = stats?.Failures ?? 0,
            P50LatencyMs = stats?.P50LatencyMs ?? 0,
            P99LatencyMs = stats?.P99LatencyMs ?? 0,
            TokensPerSecond = stats?.TokensPerSecond ?? 0,
            JoulesPerToken = stats?.JoulesPerToken ?? 0,
            ResidentOn = (stats?.ResidentOn ?? views.Where(v => v.State == "ready").Select(v => v.Silo).ToList())
                .Select(s => deviceOf.GetValueOrDefault(s, s))
                .Distinct(StringComparer.Ordinal)
                .ToList(),
        };
    }

    private static string StateName(SiloState state) => state switch
    {
        SiloState.Active => "active",
        SiloState.Joining => "joining",
        SiloState.ShuttingDown => "shuttingDown",
        _ => "dead",
    };

    private static string ReplicaStateName(ReplicaState state) => state switch
    {
        ReplicaState.Loading => "loading",
        ReplicaState.Ready => "ready",
        ReplicaState.Failed => "failed",
        _ => "unloaded",
    };
}
