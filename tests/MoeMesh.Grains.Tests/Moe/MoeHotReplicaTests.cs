using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>Shards that the routing counts show to be hot get extra replicas, and sequences share them out.</summary>
public sealed class MoeHotReplicaTests
{
    private static readonly int[] Prompt = [3, 14, 15, 9, 26, 5];

    /// <summary>Layer 0 sends almost everything to expert 0 (shard 0 of 2); layers 1 and 2 spread evenly.</summary>
    private static long[] SkewedCounts()
    {
        var shape = ReferenceMoeWeights.TinyShape;
        var counts = new long[shape.LayerCount * shape.ExpertCount];
        Array.Fill(counts, 1_000);
        counts[0] = 100_000;
        return counts;
    }

    [Fact]
    public void A_shard_routed_at_least_one_and_a_half_times_its_fair_share_is_hot()
    {
        var layout = new MoeShardLayout("m", 8, 2, 1) { HotReplicas = 2 }.WithHotShards(SkewedCounts(), 3);

        Assert.Equal([(0, 0)], layout.HotShards.ToArray());
        Assert.Equal(3, layout.ReplicasOf(0, 0));
        Assert.Equal(1, layout.ReplicasOf(0, 1));
        Assert.Equal(3 + 1 + (2 * 2), layout.AllKeys(3).Count());

        // Without extra replicas configured, or with counts of another shape, nothing is hot.
        Assert.Empty(new MoeShardLayout("m", 8, 2, 1).WithHotShards(SkewedCounts(), 3).HotShards);
        Assert.Empty(layout.WithHotShards(new long[10], 3).HotShards);
        Assert.Empty(layout.WithHotShards(new long[24], 3).HotShards);
    }

    [Fact]
    public async Task A_hot_shard_gets_an_extra_replica_on_another_silo_and_sequences_share_them_with_unchanged_output()
    {
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1, new ReferenceMoeLoader(), writeModel: null,
            m => m with { EngineOptions = new Dictionary<string, string>(m.EngineOptions) { [MoeShardLayout.HotReplicasOption] = "1" } });
        var shape = ReferenceMoeWeights.TinyShape;
        await mesh.PrimaryGrains.GetGrain<IMoeStatsGrain>(MoeMeshCluster.ModelId).RecordAsync(new MoeGenerationResult
        {
            Tokens = [], Steps = 0, Hops = 0, FrameBytes = 0, HopP50Us = 0, HopP99Us = 0, Deviations = new(), Recoveries = [],
            RoutingCounts = SkewedCounts(), ExpertCount = shape.ExpertCount, BackboneSilo = "history", Elapsed = TimeSpan.Zero,
        }, shape.LayerCount, promptTokens: 0);
        var expected = mesh.Loader.GenerateLocally(mesh.ModelPath, Prompt, 3);

        foreach (var sequence in Enumerable.Range(0, 8).Select(i => $"hot-{i}"))
        {
            var result = await mesh.Backbone(sequence).GenerateAsync(new MoeGenerationRequest { PromptTokens = Prompt, MaxTokens = 3 });
            Assert.Equal(expected, result.Tokens);
        }

        var loaded = new List<(string Silo, ExpertShardKey Key)>();
        foreach (var silo in mesh.Cluster.Silos)
        {
            var name = mesh.Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<SiloIdentity>().Name;
            var shards = await mesh.PrimaryGrains.GetGrain<IActivationHopGrain>(name).GetLoadedShardsAsync();
            loaded.AddRange(shards.Select(s => (name, s.Key)));
        }

        // Layer 0's hot shard served from both of its replicas, on different silos; every other shard from one.
        var hot = loaded.Where(l => l.Key is { Layer: 0, Shard: 0 }).ToList();
        Assert.Equal([0, 1], hot.Select(l => l.Key.Replica).Order().ToArray());
        Assert.Equal(2, hot.Select(l => l.Silo).Distinct().Count());
        Assert.All(loaded.Where(l => l.Key is not { Layer: 0, Shard: 0 }), l => Assert.Equal(0, l.Key.Replica));
    }
}
