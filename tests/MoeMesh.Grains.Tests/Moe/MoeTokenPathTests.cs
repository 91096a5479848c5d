using MoeMesh.Activations;
using MoeMesh.Errors;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>Generation over three silos against the same model run in one process.</summary>
public sealed class MoeTokenPathTests : IAsyncLifetime
{
    private static readonly int[] Prompt = [3, 14, 15, 9, 26, 5, 35];
    private MoeMeshCluster _mesh = null!;

    public async Task InitializeAsync() => _mesh = await MoeMeshCluster.StartAsync(silos: 3, replicas: 1);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Theory]
    [InlineData(MoeFrameTransport.TcpStream)]
    [InlineData(MoeFrameTransport.GrainCall)]
    public async Task Distributed_greedy_output_equals_the_monolithic_run_with_one_call_per_layer_and_shard(MoeFrameTransport transport)
    {
        var expected = _mesh.Loader.GenerateLocally(_mesh.ModelPath, Prompt, 12);

        var result = await _mesh.Backbone($"exact-{transport}").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = Prompt, MaxTokens = 12, Execution = new MoeExecutionOptions { Transport = transport },
        });

        Assert.Equal(expected, result.Tokens);
        Assert.True(result.Deviations.IsExact);
        Assert.Empty(result.Recoveries);
        var shape = ReferenceMoeWeights.TinyShape;
        Assert.True(result.Hops <= result.Steps * shape.LayerCount * 3, $"{result.Hops} hops for {result.Steps} steps");
        Assert.True(result.Hops >= result.Steps * shape.LayerCount);

        // Every slot of every token was routed: prompt and generated tokens but the last × k × layers.
        var tokens = Prompt.Length + result.Tokens.Length - 1;
        Assert.Equal(tokens * shape.ExpertsPerToken * shape.LayerCount, result.RoutingCounts.Sum());
        Assert.True(result.FrameBytes > tokens * shape.HiddenSize * 4 * 2);
        Assert.True(result.HopP50Us > 0 && result.HopP99Us >= result.HopP50Us);

        // The dashboard's totals include this run.
        var stats = await _mesh.PrimaryGrains.GetGrain<IMoeStatsGrain>(MoeMeshCluster.ModelId).GetAsync();
        Assert.Equal(shape.LayerCount * shape.ExpertCount, stats.RoutingCounts.Length);
        Assert.True(stats.Generations >= 1 && stats.Tokens >= tokens && stats.BytesPerToken > 0);
        Assert.True(stats.RoutingCounts.Sum() >= result.RoutingCounts.Sum());
    }

    [Fact]
    public async Task A_layers_shards_are_spread_over_the_silos()
    {
        var shards = await _mesh.ShardsAsync(replicas: 1);

        foreach (var layer in shards.GroupBy(s => s.Key.Layer))
        {
            Assert.True(layer.Select(s => s.Silo).Distinct().Count() == 3, string.Join(", ", layer.Select(s => $"{s.Key} on {s.Silo}")));
        }

        Assert.Equal(ReferenceMoeWeights.TinyShape.ExpertCount, shards.Where(s => s.Key.Layer == 0).Sum(s => s.Key.ExpertCount));

        // Each silo lists what it holds, as `moemesh status` shows it.
        foreach (var silo in shards.Select(s => s.Silo).Distinct())
        {
            var loaded = await _mesh.PrimaryGrains.GetGrain<IActivationHopGrain>(silo).GetLoadedShardsAsync();
            Assert.Equal(shards.Where(s => s.Silo == silo).Select(s => s.Key.GrainKey).Order(), loaded.Select(l => l.Key.GrainKey).Order());
        }
    }

    [Fact]
    public async Task Budgeted_mode_skips_low_gate_weights_and_counts_every_skip()
    {
        var exact = await _mesh.Backbone("exact-2").GenerateAsync(new MoeGenerationRequest { PromptTokens = Prompt, MaxTokens = 6 });
        var budgeted = await _mesh.Backbone("budgeted").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = Prompt, MaxTokens = 6,
            Execution = new MoeExecutionOptions { Mode = MoeExecutionMode.Budgeted, GateThreshold = 0.45f, FrameDType = ActivationDType.F16 },
        });

        Assert.True(budgeted.Deviations.SkippedExperts > 0);
        Assert.False(budgeted.Deviations.IsExact);
        Assert.Equal(budgeted.Deviations.SkippedExperts + budgeted.RoutingCounts.Sum(), (Prompt.Length + 5) * 2 * 3);
        Assert.True(budgeted.FrameBytes < exact.FrameBytes, "f16 frames and fewer experts move fewer bytes");
    }

    [Fact]
    public async Task Budgeted_mode_serves_a_slow_shard_from_a_low_precision_local_copy_and_counts_it()
    {
        var result = await _mesh.Backbone("slow").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = Prompt, MaxTokens = 6,

            // Every shard is "slow" against a one-tick budget, so every layer falls back.
            Execution = new MoeExecutionOptions { Mode = MoeExecutionMode.Budgeted, SlowShardTimeout = TimeSpan.FromTicks(1) },
        });

        Assert.Equal(6, result.Tokens.Length);
        Assert.True(result.Deviations.LowPrecisionExperts > 0);
        Assert.True(result.Deviations.CacheHits > 0, "the previous token's experts were prefetched or still resident");
        Assert.True(result.Deviations.CacheMisses + result.Deviations.Prefetched > 0);
        Assert.Contains(_mesh.Loader.Probe.ExpertLoads, l => l.Precision == MoeWeightPrecision.Float16);
        Assert.False(result.Deviations.IsExact);
    }

    [Fact]
    public async Task Impossible_requests_are_refused_with_a_clear_error()
    {
        var backbone = _mesh.Backbone("bad");
        await Assert.ThrowsAsync<InvalidRequestException>(() => backbone.GenerateAsync(new MoeGenerationRequest { PromptTokens = [999] }));
        await Assert.ThrowsAsync<InvalidRequestException>(() => backbone.GenerateAsync(new MoeGenerationRequest { PromptTokens = [1], MaxTokens = 100_000 }));
        await Assert.ThrowsAsync<InvalidRequestException>(() => backbone.GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = [1], Execution = new MoeExecutionOptions { FrameDType = ActivationDType.Q8_0 },
        }));
    }

    [Fact]
    public async Task A_malformed_frame_is_rejected_by_the_shard_with_a_format_error()
    {
        var shard = _mesh.PrimaryGrains.GetGrain<IExpertShardGrain>(new ExpertShardKey(MoeMeshCluster.ModelId, 0, 0, 0, 3, 0).GrainKey);
        await Assert.ThrowsAsync<ActivationFrameFormatException>(() => shard.RunAsync([0x9c, 0x01, 0x02]));
        var wrongLayer = ActivationFrame.Create(ActivationFrameKind.ExpertInput, MoeMeshCluster.ModelId, 2, "s", [0], new float[16], 16, ActivationDType.F32, 1, [0], [1f]);
        await Assert.ThrowsAsync<ActivationFrameFormatException>(() => shard.RunAsync(ActivationFrameCodec.Encode(wrongLayer)));
    }
}
