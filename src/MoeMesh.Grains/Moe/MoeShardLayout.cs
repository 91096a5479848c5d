using System.Globalization;
using MoeMesh.Errors;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// How one model's routed experts are cut into shards: every MoE layer's E experts split into
/// <see cref="ShardsPerLayer"/> contiguous ranges, each kept in <see cref="Replicas"/> replicas.
/// Read from the manifest's engine options <c>shards_per_layer</c> (default: one per silo that
/// holds the manifest) and <c>replicas</c> (default 1).
/// </summary>
public sealed record MoeShardLayout(string ModelId, int ExpertCount, int ShardsPerLayer, int Replicas)
{
    public const string ShardsPerLayerOption = "shards_per_layer";
    public const string ReplicasOption = "replicas";

    /// <summary>The layout for a model, from its engine options; <paramref name="silos"/> is the default shard count.</summary>
    public static MoeShardLayout From(string modelId, int expertCount, IReadOnlyDictionary<string, string> options, int silos)
    {
        var shards = Read(options, ShardsPerLayerOption, Math.Max(1, silos));
        var replicas = Read(options, ReplicasOption, 1);
        if (shards < 1 || replicas is < 1 or > 8)
        {
            throw new InvalidRequestException($"Model '{modelId}': '{ShardsPerLayerOption}' must be at least 1 and '{ReplicasOption}' between 1 and 8.");
        }

        return new MoeShardLayout(modelId, expertCount, Math.Min(shards, expertCount), replicas);
    }

    /// <summary>Experts per shard (the last shard of a layer may hold fewer).</summary>
    public int ShardSize => (ExpertCount + ShardsPerLayer - 1) / ShardsPerLayer;

    /// <summary>Shard index holding <paramref name="expert"/>.</summary>
    public int ShardOf(int expert) => expert / ShardSize;

    /// <summary>Shards actually cut (a large shard size may leave fewer than asked).</summary>
    public int ShardCount => (ExpertCount + ShardSize - 1) / ShardSize;

    /// <summary>Replica <paramref name="replica"/> of shard <paramref name="shard"/> of <paramref name="layer"/>.</summary>
    public ExpertShardKey Key(int layer, int shard, int replica)
    {
        var first = shard * ShardSize;
        return new ExpertShardKey(ModelId, layer, shard, first, Math.Min(ShardSize, ExpertCount - first), replica);
    }

    /// <summary>Every shard replica of <paramref name="layerCount"/> layers.</summary>
    public IEnumerable<ExpertShardKey> AllKeys(int layerCount)
    {
        for (var layer = 0; layer < layerCount; layer++)
        {
            for (var shard = 0; shard < ShardCount; shard++)
            {
                for (var replica = 0; replica < Replicas; replica++)
                {
                    yield return Key(layer, shard, replica);
                }
            }
        }
    }

    private static int Read(IReadOnlyDictionary<string, string> options, string name, int fallback)
        => options.TryGetValue(name, out var text)
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : -1
            : fallback;
}
