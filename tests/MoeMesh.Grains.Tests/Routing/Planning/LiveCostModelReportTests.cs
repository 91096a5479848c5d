using Microsoft.Extensions.Time.Testing;
using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Tests.Routing.Planning;

/// <summary>The replicas' reported load read against this router's own runs, and what load-era runs leave behind.</summary>
public sealed class LiveCostModelReportTests
{
    private static readonly DeviceProfile Cpu = LiveCostModelFixture.Cpu;

    private static readonly SiloInfo Silo = LiveCostModelFixture.Silo;

    private static readonly ExpertManifest Expert = LiveCostModelFixture.Measured;

    private static readonly EngineCalibration Calibration = LiveCostModelFixture.Calibration;

    private static readonly RequestShape Shape = new(100, 20);

    private static CatalogSnapshot Report(int active, DateTimeOffset at) => new()
    {
        Silos = [Silo],
        Experts = [Expert],
        Replicas =
        [
            new ReplicaStatus { Replica = new ExpertReplica(Expert.Id, 0), Silo = Silo.Silo, State = ReplicaState.Ready, ActiveRequests = active, ReportedAt = at, Calibration = Calibration },
        ],
    };

    [Fact]
    public void A_report_made_while_this_routers_runs_were_in_flight_counts_them_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var model = new LiveCostModel(time);
        var runs = Enumerable.Range(0, 2).Select(_ => (model.Track(Silo.Silo), model.TrackReplica(Expert.Id, Silo.Silo))).ToList();
        time.Advance(TimeSpan.FromMilliseconds(20));

        // The replica ran three sequences: this router's two and one of someone else's.
        model.Update(Report(active: 3, time.GetUtcNow()));

        Assert.Equal(3, model.RunningOn(Silo.Silo));
        time.Advance(TimeSpan.FromMilliseconds(20));
        using (model.Track(Silo.Silo))
        {
            Assert.Equal(4, model.RunningOn(Silo.Silo));
        }

        // This router's runs end; the snapshot, not refreshed yet, still counts the other one.
        runs.ForEach(r => { r.Item2.Dispose(); r.Item1.Dispose(); });
        Assert.Equal(1, model.RunningOn(Silo.Silo));
    }

    [Fact]
    public void A_stale_report_of_this_routers_finished_runs_does_not_slow_the_next_prediction()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var model = new LiveCostModel(time);
        model.Update(Report(active: 0, time.GetUtcNow()));
        var alone = model.Predict(Expert, Silo, Shape);

        // Eight runs at once (a warm-up at concurrency 8); the replica reports all eight mid-way.
        var runs = Enumerable.Range(0, 8).Select(_ => (model.Track(Silo.Silo), model.TrackReplica(Expert.Id, Silo.Silo))).ToList();
        time.Advance(TimeSpan.FromMilliseconds(100));
        var midway = time.GetUtcNow();
        time.Advance(TimeSpan.FromMilliseconds(100));
        runs.ForEach(r => { r.Item2.Dispose(); r.Item1.Dispose(); });
        time.Advance(TimeSpan.FromMilliseconds(300));

        // The router plans its next query from a snapshot a second behind, carrying that report.
        model.Update(Report(active: 8, midway));
        var next = model.Predict(Expert, Silo, Shape);

        Assert.Equal(0, model.RunningOn(Silo.Silo));
        Assert.Equal(alone.PrefillMs + alone.DecodeMs, next.PrefillMs + next.DecodeMs, 6);
        Assert.Equal(alone.EnergyJoules, next.EnergyJoules, 6);
    }

    [Fact]
    public void Time_outside_the_engine_under_load_does_not_stay_in_a_quiet_hosts_estimate()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var model = new LiveCostModel(time);
        model.Update(Report(active: 0, time.GetUtcNow()));
        var metrics = EngineRun(100, 20);

        // Alone, a run spends 2 ms outside its engine; under load 300 ms, waiting for cores and turns.
        Run(model, time, metrics, outsideMs: 2);
        using (model.Track(Silo.Silo))
        {
            for (var i = 0; i < 8; i++)
            {
                Run(model, time, metrics, outsideMs: 300);
            }
        }

        Assert.Equal(2, model.Predict(Expert, Silo, Shape).TransferMs, 6);
        Assert.Equal(1, model.ReturnReserveMs(Silo.Silo), 6);
        using (model.Track(Silo.Silo))
        {
            Assert.True(model.Predict(Expert, Silo, Shape).TransferMs > 100, "a busy host waits longer outside the engine");
        }
    }

    [Fact]
    public void A_replica_that_learned_on_a_busy_host_predicts_its_solo_speed_again_within_a_few_runs()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var model = new LiveCostModel(time);
        model.Update(Report(active: 0, time.GetUtcNow()));
        var solo = EngineRun(100, 20);

        // Ten runs while three other engines of the host are busy, taking 1.5 to 5 times their solo
        // time as the others' work comes and goes: more than a line in the busy engines can explain.
        var busy = new[] { "e1", "e2", "e3" }.SelectMany(e => new IDisposable[] { model.Track(Silo.Silo), model.TrackReplica(e, Silo.Silo) }).ToList();
        foreach (var factor in new[] { 3, 1.5, 4.5, 2, 5, 1.5, 4, 3, 5, 4.5 })
        {
            Run(model, time, Scaled(solo, factor), outsideMs: 2);
        }

        // The host's line takes the load; the replica's calibration stays near its solo speed.
        Assert.InRange(model.Calibration(Expert.Id, Silo.Silo)!.DecodeMsPerToken, 9, 11);
        busy.ForEach(b => b.Dispose());
        var errors = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var predicted = model.Predict(Expert, Silo, Shape);
            errors.Add(Math.Abs(((predicted.PrefillMs + predicted.DecodeMs) / solo.TotalMs) - 1));
            Run(model, time, solo, outsideMs: 2);
        }

        Assert.True(errors[^1] < 0.15, $"the solo prediction should be back within 15 % after two solo runs; errors were {string.Join(", ", errors.Select(e => e.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    private static GenerationMetrics Scaled(GenerationMetrics metrics, double factor) => metrics with
    {
        TotalMs = metrics.TotalMs * factor,
        TimeToFirstTokenMs = metrics.TimeToFirstTokenMs * factor,
        PrefillTokensPerSecond = metrics.PrefillTokensPerSecond / factor,
        DecodeTokensPerSecond = metrics.DecodeTokensPerSecond / factor,
    };

    private static void Run(LiveCostModel model, FakeTimeProvider time, GenerationMetrics metrics, double outsideMs)
    {
        using var run = model.Track(Silo.Silo);
        using var replica = model.TrackReplica(Expert.Id, Silo.Silo);
        time.Advance(TimeSpan.FromMilliseconds(metrics.TotalMs + outsideMs));
        model.Observe(Expert, Silo, metrics, 0, run, replica);
    }

    /// <summary>What the calibrated engine reports for a run alone in its batch.</summary>
    private static GenerationMetrics EngineRun(int prompt, int output)
    {
        var prefill = prompt * Calibration.PrefillMsPerToken;
        var decode = (output - 1) * Calibration.DecodeMsPerToken;
        return new GenerationMetrics
        {
            PromptTokens = prompt,
            GeneratedTokens = output,
            TimeToFirstTokenMs = Calibration.OverheadMs + prefill,
            TotalMs = Calibration.OverheadMs + prefill + decode,
            PrefillTokensPerSecond = prompt / (prefill / 1000),
            DecodeTokensPerSecond = (output - 1) / (decode / 1000),
        };
    }
}
