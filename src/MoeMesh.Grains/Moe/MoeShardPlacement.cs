using MoeMesh.Devices;
using MoeMesh.Errors;
using MoeMesh.Grains.Placement;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.TokenPath;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Moe;

/// <summary>Places expert shards on silos that hold the model's manifest and whose device it allows, spread over them.</summary>
[Serializable, GenerateSerializer, Immutable]
[Alias("moemesh.moe-shard-placement")]
public sealed class MoeShardPlacement : PlacementStrategy
{
    internal static MoeShardPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="MoeShardPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class MoeShardPlacementAttribute : PlacementAttribute
{
    public MoeShardPlacementAttribute()
        : base(MoeShardPlacement.Instance)
    {
    }
}

/// <summary>
/// Device fit by manifest, device kind and memory (the shard's own share: its experts' weights plus
/// the manifest's free-memory margin, see <see cref="MoeShardMemory"/>), then a stable spread: shard s,
/// replica r of layer l goes to fitting silo (l + s + r) mod n, so a layer's shards and a shard's
/// replicas land on different silos while there are enough, and a shard lost with its silo is
/// re-placed on a survivor.
/// </summary>
internal sealed class MoeShardPlacementDirector(ISiloMetadataCache metadataCache, MoeModelFiles files) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = ExpertShardKey.Parse(target.GrainIdentity.Key.ToString() ?? "");
        var shardBytes = ShardBytes(key);
        var fits = new DeviceFitPlacementDirector(metadataCache).FindFits(
            key.ModelId, context.GetCompatibleSilos(target), out var refusals,
            shardBytes is { } bytes ? requirement => bytes + requirement.MinFreeMemoryBytes : null);
        if (fits.Count == 0)
        {
            throw new ExpertUnavailableException($"No silo can hold expert shard '{key}': {string.Join("; ", refusals)}.");
        }

        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, [.. fits]) is { } hinted)
        {
            return Task.FromResult(hinted);
        }

        fits.Sort((a, b) => string.CompareOrdinal(a.ToParsableString(), b.ToParsableString()));
        return Task.FromResult(fits[(key.Layer + key.Shard + key.Replica) % fits.Count]);
    }

    /// <summary>The shard's weights, from the model's GGUF header on this silo; null (the whole manifest counts) when this silo cannot read it.</summary>
    private long? ShardBytes(ExpertShardKey key)
    {
        try
        {
            return MoeShardMemory.WeightBytes(files.Shape(key.ModelId), key.ExpertCount);
        }
        catch (Exception ex) when (ex is MoeMeshException or IOException or UnauthorizedAccessException or GgufFormatException or MoeModelFormatException)
        {
            return null;
        }
    }
}
