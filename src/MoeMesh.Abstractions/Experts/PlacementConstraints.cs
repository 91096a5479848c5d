using MoeMesh.Devices;

namespace MoeMesh.Experts;

/// <summary>Where an expert's replicas may run.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.placement-constraints")]
public sealed record PlacementConstraints
{
    /// <summary>Device kinds allowed to host the expert; empty means any kind.</summary>
    [Id(0)] public IReadOnlyList<DeviceKind> DeviceKinds { get; init; } = [];

    /// <summary>Memory that must stay free on the device beyond the model's own footprint, in bytes.</summary>
    [Id(1)] public long MinFreeMemoryBytes { get; init; }

    /// <summary>True when <paramref name="kind"/> is allowed.</summary>
    public bool AllowsKind(DeviceKind kind) => DeviceKinds.Count == 0 || DeviceKinds.Contains(kind);
}
