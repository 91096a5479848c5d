using MoeMesh.Catalog;
using MoeMesh.Dashboard.Live;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Monitoring;

namespace MoeMesh.Dashboard.Tests.Live;

public sealed class MeshViewBuilderTests
{
    private static readonly DeviceProfile Jetson = new()
    {
        Name = "Jetson AGX Orin 64GB", Kind = DeviceKind.Jetson, MemoryBytes = 64L << 30, MemoryBandwidthGBps = 204.8, Fp16Tflops = 85, IdlePowerWatts = 15, MaxPowerWatts = 60,
    };

    private static readonly DeviceProfile Rtx = Jetson with { Name = "RTX 4090 desktop", Kind = DeviceKind.DesktopGpu, MemoryBytes = 24L << 30, MaxPowerWatts = 450 };

    [Fact]
    public void A_silo_the_catalog_calls_dead_is_shown_dead_with_nothing_loaded_whatever_it_last_reported()
    {
        var catalog = new CatalogSnapshot
        {
            Silos =
            [
                new SiloInfo { Silo = "a", Device = Jetson, State = SiloState.Active, ModelMemoryBudgetBytes = 64L << 30 },
                new SiloInfo { Silo = "b", Device = Rtx, State = SiloState.Dead, ModelMemoryBudgetBytes = 24L << 30 },
            ],
        };
        var overview = new MeshOverview
        {
            Silos =
            [
                new SiloTelemetry { Silo = "a", Device = Jetson, PowerWatts = 20, ModelMemoryUsedBytes = 1000, ModelMemoryBudgetBytes = 64L << 30, ResidentExperts = ["x/0"], CancelledGenerationsRunning = 1 },
                new SiloTelemetry { Silo = "b", Device = Rtx, PowerWatts = 300, ModelMemoryUsedBytes = 5000, ModelMemoryBudgetBytes = 24L << 30, ResidentExperts = ["y/0"], ActiveGenerations = 2, CancelledGenerationsRunning = 3 },
            ],
        };

        var view = MeshViewBuilder.Build(catalog, overview, DateTimeOffset.UnixEpoch);

        var alive = view.Silos.Single(s => s.Silo == "a");
        var dead = view.Silos.Single(s => s.Silo == "b");
        Assert.Equal("active", alive.State);
        Assert.Equal(20, alive.PowerWatts);
        Assert.Equal(["x/0"], alive.ResidentExperts);
        Assert.Equal(1, alive.CancelledGenerationsRunning);
        Assert.Equal("dead", dead.State);
        Assert.Null(dead.PowerWatts);
        Assert.Empty(dead.ResidentExperts);
        Assert.Equal(0, dead.MemoryUsedBytes);
        Assert.Equal(0, dead.ActiveGenerations);
        Assert.Equal(0, dead.CancelledGenerationsRunning);
    }

    [Fact]
    public void Experts_join_their_manifest_replicas_and_figures()
    {
        var manifest = new ExpertManifest { Id = "math", Engine = ExpertEngines.LlamaCpp, DisplayName = "Math 1B", Skills = ["math"], Replicas = 2, ParameterCount = 1_000_000_000 };
        var catalog = new CatalogSnapshot
        {
            Silos = [new SiloInfo { Silo = "a", Device = Jetson }, new SiloInfo { Silo = "b", Device = Rtx }],
            Experts = [manifest],
            Replicas =
            [
                // Reported "loading" after the fact; the silo's telemetry says it is loaded.
                new ReplicaStatus { Replica = new ExpertReplica("math", 0), Silo = "a", State = ReplicaState.Loading, ActiveRequests = 2 },
                new ReplicaStatus { Replica = new ExpertReplica("math", 1), Silo = "b", State = ReplicaState.Loading, ActiveRequests = 1 },
            ],
        };
        var overview = new MeshOverview
        {
            Silos = [new SiloTelemetry { Silo = "a", Device = Jetson, ResidentExperts = ["math/0"] }, new SiloTelemetry { Silo = "b", Device = Rtx }],
            Experts = [new ExpertStats { ExpertId = "math", Runs = 5, P50LatencyMs = 100, P99LatencyMs = 300, TokensPerSecond = 42, JoulesPerToken = 0.5, ResidentOn = ["a"] }],
        };

        var expert = Assert.Single(MeshViewBuilder.Build(catalog, overview, DateTimeOffset.UnixEpoch).Experts);

        Assert.Equal("Math 1B", expert.Title);
        Assert.Equal(3, expert.Load);
        Assert.Equal(5, expert.Runs);
        Assert.Equal(300, expert.P99LatencyMs);
        Assert.Equal(["Jetson AGX Orin 64GB"], expert.ResidentOn);
        Assert.Equal(["Jetson AGX Orin 64GB", "RTX 4090 desktop"], expert.Replicas.Select(r => r.Device));
        Assert.Equal(["ready", "loading"], expert.Replicas.Select(r => r.State));
    }
}
