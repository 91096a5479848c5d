using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Tests.Routing.Planning;

public sealed class LiveCostModelTests
{
    private static readonly DeviceProfile Cpu = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "cpu-box" });

    private static readonly SiloInfo Silo = new() { Silo = "silo-a", Device = Cpu, State = SiloState.Active };

    private static readonly ExpertManifest Measured = new()
    {
        Id = "measured", Engine = ExpertEngines.LlamaCpp, ParameterCount = 500_000_000, Quantization = "Q4_K_M", Skills = ["general"],
    };

    private static readonly ExpertManifest Unmeasured = Measured with { Id = "unmeasured", ParameterCount = 1_000_000_000 };

    private static readonly EngineCalibration Calibration = new()
    {
        PrefillMsPerToken = 0.5, DecodeMsPerToken = 10, OverheadMs = 5, BusyWatts = 30, LoadSlowdown = 0.25, Confidence = 3, Observations = 1,
    };

    private static CatalogSnapshot Catalog(int active = 0) => new()
    {
        Silos = [Silo],
        Experts = [Measured, Unmeasured],
        Replicas =
        [
            new ReplicaStatus { Replica = new ExpertReplica(Measured.Id, 0), Silo = Silo.Silo, State = ReplicaState.Ready, ActiveRequests = active, Calibration = Calibration },
        ],
    };

    [Fact]
    public void A_calibrated_replica_is_costed_from_what_it_measured()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());

        var cost = model.Predict(Measured, Silo, new RequestShape(100, 20));

        Assert.Equal(5 + 50 + (19 * 10), cost.PrefillMs + cost.DecodeMs, 6);
        Assert.Equal(245 / 1000.0 * 30, cost.EnergyJoules, 6);
    }

    [Fact]
    public void Runs_in_flight_on_the_silo_slow_the_prediction_and_share_the_energy()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());
        var alone = model.Predict(Measured, Silo, new RequestShape(100, 20));

        using var first = model.Track(Silo.Silo);
        using var second = model.Track(Silo.Silo);
        var loaded = model.Predict(Measured, Silo, new RequestShape(100, 20));

        Assert.Equal(2, model.RunningOn(Silo.Silo));
        Assert.Equal(5 + (240 * 1.5), loaded.PrefillMs + loaded.DecodeMs, 6);
        Assert.True(loaded.LatencyMs > alone.LatencyMs);
        Assert.Equal((5 + 360) / 1000.0 * 30 / 3, loaded.EnergyJoules, 6);
    }

    [Fact]
    public void Load_the_replicas_report_counts_when_this_router_has_nothing_in_flight()
    {
        var model = new LiveCostModel();
        model.Update(Catalog(active: 4));

        var cost = model.Predict(Measured, Silo, new RequestShape(100, 20));

        Assert.Equal(4, model.RunningOn(Silo.Silo));
        Assert.Equal(5 + (240 * 2), cost.PrefillMs + cost.DecodeMs, 6);
    }

    [Fact]
    public void Finished_runs_end_their_load()
    {
        var model = new LiveCostModel();
        var run = model.Track(Silo.Silo);
        Assert.Equal(1, model.RunningOn(Silo.Silo));

        run.Dispose();
        run.Dispose();

        Assert.Equal(0, model.RunningOn(Silo.Silo));
    }

    [Fact]
    public void An_unloaded_expert_gets_its_roofline_scaled_as_its_silo_measured_its_peers()
    {
        var model = new LiveCostModel();
        var roofline = model.Predict(Unmeasured, Silo, new RequestShape(0, 101));
        model.Update(Catalog());
        var peerRoofline = new LiveCostModel().Predict(Measured, Silo, new RequestShape(0, 101));

        var scaled = model.Predict(Unmeasured, Silo, new RequestShape(0, 101));

        // The peer measured 10 ms a token where its roofline said peerRoofline / 101: the newcomer is scaled alike.
        var expected = roofline.DecodeMs * (10 / (peerRoofline.DecodeMs / 101)) * 100 / 101;
        Assert.Equal(expected, scaled.DecodeMs, 3);
        Assert.Equal(5, scaled.PrefillMs, 6);
    }
}
