using MoeMesh.Devices;
using MoeMesh.Experts;

namespace MoeMesh.Catalog;

/// <summary>A silo's state as the cluster sees it.</summary>
public enum SiloState
{
    Active = 0,
    Joining = 1,
    ShuttingDown = 2,
    Dead = 3,
}

/// <summary>One silo in a catalog snapshot.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.silo-info")]
public sealed record SiloInfo
{
    [Id(0)] public required string Silo { get; init; }

    [Id(1)] public required DeviceProfile Device { get; init; }

    [Id(2)] public SiloState State { get; init; }

    [Id(3)] public IReadOnlyList<string> HostableExperts { get; init; } = [];

    [Id(4)] public long ModelMemoryBudgetBytes { get; init; }

    /// <summary>Memory held by resident models, in bytes.</summary>
    [Id(5)] public long ModelMemoryUsedBytes { get; init; }

    [Id(6)] public string? Endpoint { get; init; }

    /// <summary>When the catalog first saw the silo.</summary>
    [Id(7)] public DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>Everything the catalog knows: silos, experts and where replicas run.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.catalog-snapshot")]
public sealed record CatalogSnapshot
{
    [Id(0)] public IReadOnlyList<SiloInfo> Silos { get; init; } = [];

    [Id(1)] public IReadOnlyList<ExpertManifest> Experts { get; init; } = [];

    [Id(2)] public IReadOnlyList<ReplicaStatus> Replicas { get; init; } = [];

    /// <summary>Problems the catalog noticed, such as two silos declaring different manifests under one id.</summary>
    [Id(3)] public IReadOnlyList<string> Warnings { get; init; } = [];

    [Id(4)] public DateTimeOffset TakenAt { get; init; }
}
