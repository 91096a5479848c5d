using MoeMesh.Catalog;
using MoeMesh.Dashboard.Moe;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.TokenPath;

namespace MoeMesh.Dashboard.Tests.Moe;

public sealed class MoeViewBuilderTests
{
    private static readonly ExpertManifest Manifest = new() { Id = "m", DisplayName = "Model M", Engine = ExpertEngines.Moe, ModelPath = "m.gguf", ParameterCount = 1 };

    private static MoeStatsSnapshot Stats(int layers, int experts, long[] counts) => new()
    {
        ModelId = "m", LayerCount = layers, ExpertCount = experts, RoutingCounts = counts, Generations = 2, Tokens = 10, Hops = 8,
        FrameBytes = 5000, LastHopP50Us = 120, LastHopP99Us = 480, Deviations = new MoeDeviations { SkippedExperts = 3 },
    };

    private static SiloInfo Silo(string address, string name) => new()
    {
        Silo = address,
        Device = new DeviceProfile { Name = name, Kind = DeviceKind.Cpu, MemoryBytes = 1L << 34, MemoryBandwidthGBps = 50, Fp16Tflops = 1, IdlePowerWatts = 5, MaxPowerWatts = 50 },
    };

    [Fact]
    public void Counts_become_one_row_per_layer_with_the_largest_count_and_the_totals()
    {
        var view = MoeViewBuilder.Build(Manifest, Stats(2, 3, [1, 2, 3, 4, 9, 6]), []);

        Assert.Equal("Model M", view.DisplayName);
        Assert.Equal((2, 3), (view.Layers, view.Experts));
        Assert.Equal([1L, 2, 3], view.Routing[0]);
        Assert.Equal([4L, 9, 6], view.Routing[1]);
        Assert.Equal(9, view.MaxCount);
        Assert.Equal(500, view.BytesPerToken);
        Assert.Equal((120d, 480d), (view.HopP50Us, view.HopP99Us));
        Assert.Equal(3, view.Deviations.SkippedExperts);
    }

    [Fact]
    public void A_model_without_generations_has_no_heat_map_rather_than_a_misshapen_one()
    {
        Assert.Empty(MoeViewBuilder.Build(Manifest, Stats(0, 0, []), []).Routing);

        var misshapen = MoeViewBuilder.Build(Manifest, Stats(2, 3, [1, 2, 3]), []);
        Assert.Empty(misshapen.Routing);
        Assert.Equal((0, 0, 0L), (misshapen.Layers, misshapen.Experts, misshapen.MaxCount));
    }

    [Fact]
    public void Shards_of_this_model_are_listed_by_layer_and_expert_with_their_silo()
    {
        var a = Silo("10.0.0.1:11111@1", "box A");
        var b = Silo("10.0.0.2:11111@1", "box B");
        var view = MoeViewBuilder.Build(Manifest, Stats(2, 4, new long[8]),
        [
            (b, new LoadedShard(new ExpertShardKey("m", 1, 0, 0, 2, 0), 300)),
            (a, new LoadedShard(new ExpertShardKey("m", 0, 1, 2, 2, 0), 200)),
            (a, new LoadedShard(new ExpertShardKey("m", 0, 0, 0, 2, 0), 100)),
            (b, new LoadedShard(new ExpertShardKey("other", 0, 0, 0, 2, 0), 100)),
        ]);

        Assert.Equal(
            [(0, 0, "box A", 100L), (0, 2, "box A", 200L), (1, 0, "box B", 300L)],
            view.Shards.Select(s => (s.Layer, s.FirstExpert, s.SiloName, s.ResidentBytes)).ToArray());
    }
}
