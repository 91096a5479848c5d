using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Tests.Routing.Planning;

public sealed class LiveCostModelTests
{
    private static readonly DeviceProfile Cpu = LiveCostModelFixture.Cpu;

    private static readonly SiloInfo Silo = LiveCostModelFixture.Silo;

    private static readonly ExpertManifest Measured = LiveCostModelFixture.Measured;

    private static readonly ExpertManifest Unmeasured = Measured with { Id = "unmeasured", ParameterCount = 1_000_000_000 };

    private static readonly EngineCalibration Calibration = LiveCostModelFixture.Calibration;

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
        // Runs on the host's other engines compete for its cores: the whole engine time stretches.
        Assert.Equal((5 + 240) * 1.5, loaded.PrefillMs + loaded.DecodeMs, 6);
        Assert.True(loaded.LatencyMs > alone.LatencyMs);
        Assert.Equal((5 + 240) * 1.5 / 1000.0 * 30 / 3, loaded.EnergyJoules, 6);
    }

    [Fact]
    public void Load_the_replicas_report_counts_when_this_router_has_nothing_in_flight()
    {
        var model = new LiveCostModel();
        model.Update(Catalog(active: 4));

        var cost = model.Predict(Measured, Silo, new RequestShape(100, 20));

        Assert.Equal(4, model.RunningOn(Silo.Silo));
        Assert.Equal((5 + 240) * 2, cost.PrefillMs + cost.DecodeMs, 6);
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

    [Theory]
    [InlineData("10.0.0.5:11111@123", "10.0.0.5")]
    [InlineData("10.0.0.5:11111", "10.0.0.5")]
    [InlineData("box@7", "box")]
    [InlineData("silo-a", "silo-a")]
    [InlineData("", "")]
    public void A_silo_name_names_its_host(string silo, string host)
        => Assert.Equal(host, LiveCostModel.HostOf(silo));

    [Fact]
    public void Runs_on_every_silo_of_a_host_count_for_the_host_and_only_there()
    {
        var model = new LiveCostModel();
        using var first = model.Track("10.0.0.5:11111@1");
        using var second = model.Track("10.0.0.5:11112@2");
        using var elsewhere = model.Track("10.0.0.6:11111@3");

        Assert.Equal(2, model.RunningOnHost("10.0.0.5:11111@1"));
        Assert.Equal(2, model.RunningOnHost("10.0.0.5:11113@9"));
        Assert.Equal(1, model.RunningOnHost("10.0.0.6:11111@3"));
        Assert.Equal(0, model.RunningOnHost("10.0.0.7:11111@4"));
        Assert.Equal(1, model.RunningOn("10.0.0.5:11112@2"));
    }

    [Fact]
    public void A_run_counts_what_its_host_ran_when_it_was_sent()
    {
        // The replicas reported three sequences before this router sent anything: all three are others'.
        var model = new LiveCostModel();
        model.Update(Catalog(active: 3));
        using var first = model.Track(Silo.Silo);

        using var second = model.Track(Silo.Silo);

        // Each run counts the others' sequences and this router's runs already sent, each once.
        Assert.Equal(3, first.OthersAtStart);
        Assert.Equal(4, second.OthersAtStart);
        Assert.Equal(5, model.RunningOnHost(Silo.Silo));
    }

    [Fact]
    public void A_new_snapshot_replaces_the_reported_load_and_the_same_one_again_changes_nothing()
    {
        var model = new LiveCostModel();
        var busy = Catalog(active: 4);
        model.Update(busy);
        model.Update(busy);
        Assert.Equal(4, model.RunningOn(Silo.Silo));

        model.Update(Catalog(active: 1));
        Assert.Equal(1, model.RunningOn(Silo.Silo));

        // A copy that only marks silos dead shares the replicas, and reports the same load.
        model.Update(busy with { Silos = [Silo with { State = SiloState.Dead }] });
        Assert.Equal(4, model.RunningOn(Silo.Silo));
    }

    [Fact]
    public void Replicas_that_are_not_ready_report_no_load()
    {
        var model = new LiveCostModel();
        var catalog = Catalog(active: 5);
        model.Update(catalog with { Replicas = [catalog.Replicas[0] with { State = ReplicaState.Loading }] });

        Assert.Equal(0, model.RunningOn(Silo.Silo));
    }

    [Fact]
    public void Runs_on_the_same_replica_share_its_batch_and_other_engines_share_the_host_by_engine()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());
        var shape = new RequestShape(100, 20);

        using (model.Track(Silo.Silo))
        using (model.TrackReplica(Measured.Id, Silo.Silo))
        {
            // One sequence in the same batch: the calibration's load slowdown on the compute.
            var batched = model.Predict(Measured, Silo, shape);
            Assert.Equal(5 + (240 * 1.25), batched.PrefillMs + batched.DecodeMs, 6);
        }

        var elsewhere = new List<IDisposable>();
        for (var i = 0; i < 3; i++)
        {
            elsewhere.Add(model.Track(Silo.Silo));
            elsewhere.Add(model.TrackReplica(Unmeasured.Id, Silo.Silo));
        }

        // Three sequences on one other engine compete for the cores as one engine, not three.
        var competing = model.Predict(Measured, Silo, shape);
        Assert.Equal(1, model.Elsewhere(Measured.Id, Silo.Silo, 0));
        Assert.Equal((5 + 240) * 1.25, competing.PrefillMs + competing.DecodeMs, 6);
        elsewhere.ForEach(e => e.Dispose());
        Assert.Equal(0, model.RunningOnReplica(Unmeasured.Id, Silo.Silo));
    }

    [Fact]
    public void A_host_of_known_pace_and_contention_is_learned_from_the_runs_on_it()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());
        string[] engines = ["e1", "e2", "e3"];

        // The host runs 1.5 times slower than the calibration, and each other busy engine adds 40 %.
        static double Truth(int busy) => 1.5 * (1 + (0.4 * busy));
        for (var i = 0; i < 16; i++)
        {
            var busy = i % 4;
            var others = engines.Take(busy).SelectMany(e => new IDisposable[] { model.Track(Silo.Silo), model.TrackReplica(e, Silo.Silo) }).ToList();
            var run = model.Track(Silo.Silo);
            var batch = model.TrackReplica(Measured.Id, Silo.Silo);
            var f = Truth(busy);
            model.Observe(Measured, Silo, EngineRun(100, 20, 0.5 * f, 10 * f, 5 * f), 0, run, batch);
            batch.Dispose();
            run.Dispose();
            others.ForEach(o => o.Dispose());
        }

        using var a = model.Track(Silo.Silo);
        using var b = model.TrackReplica("e1", Silo.Silo);
        using var c = model.Track(Silo.Silo);
        using var d = model.TrackReplica("e2", Silo.Silo);
        var predicted = model.Predict(Measured, Silo, new RequestShape(100, 20));
        var measured = EngineRun(100, 20, 0.5 * Truth(2), 10 * Truth(2), 5 * Truth(2)).TotalMs;
        Assert.InRange((predicted.PrefillMs + predicted.DecodeMs) / measured, 0.9, 1.1);
        Assert.InRange(model.Pace(Silo.Silo), 1.35, 1.65);
        Assert.InRange(model.HostSlowdown(Silo.Silo)!.Value, 0.3, 0.5);
    }

    [Fact]
    public void Energy_shared_with_the_silo_teaches_the_busy_power_and_not_the_share()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());

        for (var i = 0; i < 6; i++)
        {
            using var other = model.Track(Silo.Silo);
            using var otherBatch = model.TrackReplica(Unmeasured.Id, Silo.Silo);
            using var run = model.Track(Silo.Silo);
            using var batch = model.TrackReplica(Measured.Id, Silo.Silo);
            var metrics = EngineRun(100, 20, 0.5, 10, 5);

            // The silo's meter split the busy power (30 W) between the two sequences running all along.
            model.Observe(Measured, Silo, metrics, 30 * (metrics.TotalMs / 1000) / 2, run, batch);
        }

        Assert.InRange(model.Calibration(Measured.Id, Silo.Silo)!.BusyWatts, 29, 31);
    }

    [Fact]
    public void A_run_that_shared_its_batch_for_part_of_its_time_teaches_no_solo_speed()
    {
        var model = new LiveCostModel();
        model.Update(Catalog());

        for (var i = 0; i < 4; i++)
        {
            using var run = model.Track(Silo.Silo);
            var earlier = model.TrackReplica(Measured.Id, Silo.Silo);
            using var batch = model.TrackReplica(Measured.Id, Silo.Silo);
            earlier.Dispose();

            // The engine decoded it alongside another sequence that ended halfway: slower than alone.
            model.Observe(Measured, Silo, EngineRun(100, 20, 0.5, 20, 5) with { BatchSize = 2 }, 0, run, batch);
        }

        Assert.Equal(10, model.Calibration(Measured.Id, Silo.Silo)!.DecodeMsPerToken, 6);
        Assert.Equal(0.5, model.Calibration(Measured.Id, Silo.Silo)!.PrefillMsPerToken, 6);
    }

    /// <summary>What an engine with these speeds reports for a run alone in its batch.</summary>
    private static GenerationMetrics EngineRun(int prompt, int output, double prefillMs, double decodeMs, double overheadMs)
    {
        var prefill = prompt * prefillMs;
        var decode = (output - 1) * decodeMs;
        return new GenerationMetrics
        {
            PromptTokens = prompt,
            GeneratedTokens = output,
            TimeToFirstTokenMs = overheadMs + prefill,
            TotalMs = overheadMs + prefill + decode,
            PrefillTokensPerSecond = prompt / (prefill / 1000),
            DecodeTokensPerSecond = (output - 1) / (decode / 1000),
        };
    }
}
