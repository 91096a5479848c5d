using Orleans.Placement;

namespace MoeMesh.Grains.Placement;

/// <summary>
/// Places an expert replica only on a silo that holds the expert's manifest and whose device
/// satisfies it (allowed kind, enough model memory); replicas of one expert spread over the
/// silos that fit.
/// </summary>
[Serializable, GenerateSerializer, Immutable]
[Alias("moemesh.device-fit-placement")]
public sealed class DeviceFitPlacement : PlacementStrategy
{
    internal static DeviceFitPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="DeviceFitPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DeviceFitPlacementAttribute : PlacementAttribute
{
    public DeviceFitPlacementAttribute()
        : base(DeviceFitPlacement.Instance)
    {
    }
}
