using MoeMesh.Errors;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>Places a grain on the silo its key names (the silo's parsable address).</summary>
[Serializable, GenerateSerializer, Immutable]
[Alias("moemesh.silo-pinned-placement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    internal static SiloPinnedPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="SiloPinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute : PlacementAttribute
{
    public SiloPinnedPlacementAttribute()
        : base(SiloPinnedPlacement.Instance)
    {
    }
}

internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var silo = context.GetCompatibleSilos(target).FirstOrDefault(s => s.ToParsableString() == key);
        return Task.FromResult(silo ?? throw new SiloUnavailableForGrainException($"Silo '{key}' is not an active member of the mesh."));
    }
}

/// <summary>A grain pinned to a silo was asked for on a silo that is not in the mesh.</summary>
[GenerateSerializer]
[Alias("moemesh.silo-unavailable-for-grain")]
public sealed class SiloUnavailableForGrainException : MoeMeshException
{
    public SiloUnavailableForGrainException()
    {
    }

    public SiloUnavailableForGrainException(string message)
        : base(message)
    {
    }

    public SiloUnavailableForGrainException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
