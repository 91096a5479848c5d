using System.Globalization;
using MoeMesh.Errors;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// How one model's routed experts are cut into shards: every MoE layer's E experts split into
/// <see cref="ShardsPerLayer"/> contiguous ranges, each kept in <see cref="Replicas"/> replicas, and
/// the hot shards (<see cref="HotShards"/>) in <see cref="HotReplicas"/> more. Read from the manifest's
/// engine options <c>shards_per_layer</c> (default: one per silo that holds the manifest),
/// <c>replicas</c> (default 1) and <c>hot_replicas</c> (default 0).
/// </summary>
public sealed record MoeShardLayout(string ModelId, int ExpertCount, int ShardsPerLayer, int Replicas)
{
    public const string ShardsPerLayerOption = "shards_per_layer";
    public const string ReplicasOption = "replicas";
    public const string HotReplicasOption = "hot_replicas";

    /// <summary>A shard is hot when its layer routes at least this many times its fair share (its experts ÷ E) to it.</summary>
    public const double HotShareFactor = 1.5;

    /// <summary>Extra replicas of each hot shard, so concurrent sequences spread over more silos.</summary>
    public int HotReplicas { get; init; }

    /// <summary>The (layer, shard) pairs that get <see cref="HotReplicas"/> extra replicas.</summary>
    public IReadOnlySet<(int Layer, int Shard)> HotShards { get; init; } = new HashSet<(int, int)>();

    /// <summary>The layout for a model, from its engine options; <paramref name="silos"/> is the default shard count.</summary>
    public static MoeShardLayout From(string modelId, int expertCount, IReadOnlyDictionary<string, string> options, int silos)
    {
        var shards = Read(options, ShardsPerLayerOption, Math.Max(1, silos));
        var replicas = Read(options, ReplicasOption, 1);
        var hot = Read(options, HotReplicasOption, 0);
        if (shards < 1 || replicas is < 1 or > 8 || hot is < 0 or > 8)
        {
            throw new InvalidRequestException(
                $"Model '{modelId}': '{ShardsPerLayerOption}' must be at least 1, '{ReplicasOption}' between 1 and 8 and '{HotReplicasOption}' between 0 and 8.");
        }

        return new MoeShardLayout(modelId, expertCount, Math.Min(shards, expertCount), replicas) { HotReplicas = hot };
    }

    /// <summary>
    /// Marks the hot shards from routing counts so far (layer × expert, row-major, as <c>IMoeStatsGrain</c>
    /// keeps them): a shard whose layer sent it at least <see cref="HotShareFactor"/> times its fair share.
    /// Counts of another shape (another model file) mark nothing.
    /// </summary>
    public MoeShardLayout WithHotShards(IReadOnlyList<long> routingCounts, int layerCount)
    {
        ArgumentNullException.ThrowIfNull(routingCounts);
        var hot = new HashSet<(int, int)>();
        if (HotReplicas > 0 && layerCount > 0 && routingCounts.Count == layerCount * ExpertCount)
        {
            for (var layer = 0; layer < layerCount; layer++)
            {
                var total = 0L;
                for (var e = 0; e < ExpertCount; e++)
                {
                    total += routingCounts[(layer * ExpertCount) + e];
                }

                for (var shard = 0; total > 0 && shard < ShardCount; shard++)
                {
                    var key = Key(layer, shard, 0);
                    var routed = key.Experts.Sum(e => routingCounts[(layer * ExpertCount) + e]);
                    if (routed >= HotShareFactor * total * key.ExpertCount / ExpertCount)
                    {
                        hot.Add((layer, shard));
                    }
                }
            }
        }

        return this with { HotShards = hot };
    }

    /// <summary>Replicas of shard <paramref name="shard"/> of <paramref name="layer"/>: more when it is hot.</summary>
    public int ReplicasOf(int layer, int shard) => Replicas + (HotShards.Contains((layer, shard)) ? HotReplicas : 0);

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
                for (var replica = 0; replica < ReplicasOf(layer, shard); replica++)
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
