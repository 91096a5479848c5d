using MoeMesh.Experts;
using MoeMesh.Grains.Moe;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>Expert shards are placed by their own share of the model's memory, not by the whole manifest's size.</summary>
public sealed class MoeShardPlacementTests
{
    private static readonly int[] Prompt = [3, 14, 15, 9, 26, 5];

    [Fact]
    public void A_shards_memory_is_its_experts_swiglu_weights_in_f32()
    {
        var shape = ReferenceMoeWeights.TinyShape;

        Assert.Equal(0, MoeShardMemory.WeightBytes(shape, 0));
        Assert.Equal(3L * shape.HiddenSize * shape.ExpertFeedForwardSize * 4, MoeShardMemory.WeightBytes(shape, 1));
        Assert.Equal(4 * MoeShardMemory.WeightBytes(shape, 1), MoeShardMemory.WeightBytes(shape, 4));
    }

    [Fact]
    public async Task A_model_larger_than_every_silo_spreads_over_them_when_each_shard_fits()
    {
        // 4 TiB of weights: no silo's model memory holds the model, each holds its shards easily.
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1, new ReferenceMoeLoader(), writeModel: null,
            m => m with { ModelSizeBytes = 4L << 40 });
        var expected = mesh.Loader.GenerateLocally(mesh.ModelPath, Prompt, 5);

        var result = await mesh.Backbone("large").GenerateAsync(new MoeGenerationRequest { PromptTokens = Prompt, MaxTokens = 5 });

        Assert.Equal(expected, result.Tokens);
        var shards = await mesh.ShardsAsync(replicas: 1);
        Assert.Equal(2, shards.Select(s => s.Silo).Distinct().Count());
    }

    [Fact]
    public async Task A_shard_that_fits_no_silo_is_refused_with_the_memory_it_needs()
    {
        // The manifest's free-memory margin alone is more than any silo lets models use.
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1, new ReferenceMoeLoader(), writeModel: null,
            m => m with { Placement = m.Placement with { MinFreeMemoryBytes = 4L << 40 } });

        var refusal = await Assert.ThrowsAnyAsync<Exception>(() => mesh.PrimaryGrains.GetGrain<IExpertShardGrain>(
            new MoeShardLayout(MoeMeshCluster.ModelId, ReferenceMoeWeights.TinyShape.ExpertCount, 2, 1).Key(0, 0, 0).GrainKey).WarmUpAsync());

        Assert.Contains("lets models use", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("needs 4096", refusal.Message, StringComparison.Ordinal);
    }
}
