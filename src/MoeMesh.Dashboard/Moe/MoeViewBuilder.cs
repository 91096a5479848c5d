using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.TokenPath;

namespace MoeMesh.Dashboard.Moe;

/// <summary>Turns a model's <see cref="MoeStatsSnapshot"/> and the silos' loaded shards into the page's view.</summary>
internal static class MoeViewBuilder
{
    public static MoeModelView Build(ExpertManifest manifest, MoeStatsSnapshot stats, IEnumerable<(SiloInfo Silo, LoadedShard Shard)> loaded)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(loaded);

        // A snapshot whose counts do not fill layers × experts (none recorded yet) shows no heat map rather than a wrong one.
        var shaped = stats.LayerCount > 0 && stats.ExpertCount > 0 && stats.RoutingCounts.Length == stats.LayerCount * stats.ExpertCount;
        var rows = shaped
            ? Enumerable.Range(0, stats.LayerCount).Select(l => stats.RoutingCounts.AsSpan(l * stats.ExpertCount, stats.ExpertCount).ToArray()).ToList()
            : [];
        var shards = loaded
            .Where(s => string.Equals(s.Shard.Key.ModelId, manifest.Id, StringComparison.Ordinal))
            .Select(s => new MoeShardView(s.Shard.Key.Layer, s.Shard.Key.Shard, s.Shard.Key.FirstExpert, s.Shard.Key.ExpertCount, s.Shard.Key.Replica,
                s.Silo.Silo, s.Silo.Device.Name, s.Shard.ResidentBytes))
            .OrderBy(s => s.Layer).ThenBy(s => s.FirstExpert).ThenBy(s => s.Replica)
            .ToList();

        return new MoeModelView
        {
            Model = manifest.Id,
            DisplayName = manifest.Title,
            Layers = shaped ? stats.LayerCount : 0,
            Experts = shaped ? stats.ExpertCount : 0,
            Generations = stats.Generations,
            Tokens = stats.Tokens,
            Hops = stats.Hops,
            FrameBytes = stats.FrameBytes,
            BytesPerToken = stats.BytesPerToken,
            HopP50Us = stats.LastHopP50Us,
            HopP99Us = stats.LastHopP99Us,
            Deviations = stats.Deviations,
            Routing = rows,
            MaxCount = rows.Count == 0 ? 0 : rows.Max(r => r.Length == 0 ? 0 : r.Max()),
            Shards = shards,
        };
    }
}
