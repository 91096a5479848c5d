using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Tests.CostModel;

public sealed class EngineCalibratorTests
{
    /// <summary>
    /// The metrics an engine with these speeds reports for one run: overhead, then the prompt at the
    /// prefill rate, then every token after the first at the decode rate (slowed by the batch).
    /// </summary>
    internal static GenerationMetrics Run(int prompt, int output, double prefillMs, double decodeMs, double overheadMs, int batch = 1, double slowdown = 0)
    {
        var factor = 1 + (slowdown * (batch - 1));
        var prefill = prompt * prefillMs * factor;
        var decode = (output - 1) * decodeMs * factor;
        return new GenerationMetrics
        {
            PromptTokens = prompt,
            GeneratedTokens = output,
            TimeToFirstTokenMs = overheadMs + prefill,
            TotalMs = overheadMs + prefill + decode,
            PrefillTokensPerSecond = prompt / (prefill / 1000),
            DecodeTokensPerSecond = (output - 1) / (decode / 1000),
            BatchSize = batch,
        };
    }

    [Fact]
    public void A_probe_recovers_the_engine_speeds_it_ran_at()
    {
        var metrics = Run(256, 32, prefillMs: 0.5, decodeMs: 10, overheadMs: 5);

        var calibration = EngineCalibrator.FromProbe(metrics, energyJoules: 20 * (metrics.TotalMs / 1000), "rapl");

        Assert.Equal(2000, calibration.PrefillTokensPerSecond, 6);
        Assert.Equal(100, calibration.DecodeTokensPerSecond, 6);
        Assert.Equal(5, calibration.OverheadMs, 6);
        Assert.Equal(20, calibration.BusyWatts, 6);
        Assert.False(calibration.EnergyEstimated);
        Assert.Equal(metrics.TotalMs, EngineCalibrator.PredictMs(calibration, new RequestShape(256, 32)), 6);
    }

    [Fact]
    public void Runs_at_the_probed_speed_keep_the_estimate_where_it_is()
    {
        var calibration = EngineCalibrator.FromProbe(Run(256, 32, 0.5, 10, 5), null, EnergyMeters.Model);

        for (var i = 0; i < 5; i++)
        {
            calibration = EngineCalibrator.Fold(calibration, Run(100 + (i * 50), 10 + i, 0.5, 10, 5), null);
        }

        Assert.Equal(10, calibration.DecodeMsPerToken, 6);
        Assert.Equal(0.5, calibration.PrefillMsPerToken, 6);
        Assert.Equal(5, calibration.OverheadMs, 6);
        Assert.Equal(6, calibration.Observations);
    }

    [Fact]
    public void An_engine_that_slows_down_is_followed_within_a_few_runs()
    {
        var calibration = EngineCalibrator.FromProbe(Run(256, 32, 0.5, 10, 5), null, EnergyMeters.Model);

        // The device throttles: every phase now takes twice as long.
        for (var i = 0; i < 4; i++)
        {
            calibration = EngineCalibrator.Fold(calibration, Run(200, 40, 1.0, 20, 10), null);
        }

        var predicted = EngineCalibrator.PredictMs(calibration, new RequestShape(200, 40));
        var measured = Run(200, 40, 1.0, 20, 10).TotalMs;
        Assert.InRange(Math.Abs(predicted - measured) / measured, 0, 0.10);
    }

    [Fact]
    public void A_prior_far_off_converges_toward_the_measurements()
    {
        var prior = EngineCalibrator.Prior(new CostEstimate(0.25, 5, 0, 0), SiloScale.Unmeasured(30));
        var truth = Run(128, 24, 0.5, 10, 5);

        var calibration = prior;
        var errors = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            errors.Add(Math.Abs(EngineCalibrator.PredictMs(calibration, new RequestShape(128, 24)) - truth.TotalMs) / truth.TotalMs);
            calibration = EngineCalibrator.Fold(calibration, truth, null);
        }

        errors.Add(Math.Abs(EngineCalibrator.PredictMs(calibration, new RequestShape(128, 24)) - truth.TotalMs) / truth.TotalMs);
        Assert.True(errors[0] > 0.4, $"the prior should start far off, was {errors[0]:P0}");
        Assert.True(errors[^1] < 0.15, $"after four runs the error should be small, was {errors[^1]:P0}");
        Assert.Equal(errors.OrderByDescending(e => e), errors);
    }

    [Fact]
    public void Sequences_sharing_the_engine_teach_the_slowdown_and_not_a_slower_solo_speed()
    {
        var calibration = EngineCalibrator.FromProbe(Run(256, 32, 0.5, 10, 5), null, EnergyMeters.Model) with { LoadSlowdown = 0.5 };

        for (var i = 0; i < 6; i++)
        {
            calibration = EngineCalibrator.Fold(calibration, Run(64, 32, 0.5, 10, 5, batch: 4, slowdown: 0.2), null);
        }

        Assert.InRange(calibration.LoadSlowdown, 0.15, 0.3);
        Assert.InRange(calibration.DecodeMsPerToken, 9, 11.5);
        var alone = EngineCalibrator.PredictMs(calibration, new RequestShape(64, 32));
        var shared = EngineCalibrator.PredictMs(calibration, new RequestShape(64, 32), others: 3);
        Assert.True(shared > alone * 1.4, $"three other sequences should slow the run: {alone:0} ms alone, {shared:0} ms shared");
    }

    [Fact]
    public void Energy_is_busy_time_at_busy_power_shared_with_the_other_sequences()
    {
        var calibration = new EngineCalibration { PrefillMsPerToken = 1, DecodeMsPerToken = 10, OverheadMs = 0, BusyWatts = 40 };

        Assert.Equal(4, EngineCalibrator.PredictJoules(calibration, 100), 9);
        Assert.Equal(1, EngineCalibrator.PredictJoules(calibration, 100, others: 3), 9);
    }

    [Fact]
    public void The_token_cap_fits_the_time_left()
    {
        var calibration = new EngineCalibration { PrefillMsPerToken = 1, DecodeMsPerToken = 10, OverheadMs = 5 };

        // 5 ms overhead + 20 ms prompt leaves 75 ms: the first token, then 7 more at 10 ms.
        Assert.Equal(8, EngineCalibrator.MaxOutputTokens(calibration, 20, 100));
        Assert.Equal(1, EngineCalibrator.MaxOutputTokens(calibration, 20, 10));
        Assert.True(EngineCalibrator.MaxOutputTokens(calibration, 20, 100, others: 2) < 8);
        Assert.Equal(int.MaxValue, EngineCalibrator.MaxOutputTokens(calibration with { DecodeMsPerToken = 0 }, 20, 100));
    }

    [Fact]
    public void A_silo_scale_carries_what_its_measured_experts_showed_to_an_unmeasured_one()
    {
        var measured = new EngineCalibration { PrefillMsPerToken = 2, DecodeMsPerToken = 30, OverheadMs = 4, BusyWatts = 25 };
        var scale = SiloScale.From([(measured, new CostEstimate(1, 10, 0, 0))])!;

        var prior = EngineCalibrator.Prior(new CostEstimate(0.5, 4, 0, 0), scale);

        Assert.Equal(1, prior.PrefillMsPerToken, 9);
        Assert.Equal(12, prior.DecodeMsPerToken, 9);
        Assert.Equal(4, prior.OverheadMs, 9);
        Assert.Equal(25, prior.BusyWatts, 9);
        Assert.True(prior.Confidence < 1);
        Assert.Null(SiloScale.From([]));
    }

    [Fact]
    public void Runs_brought_back_from_a_loaded_host_weigh_less_and_what_they_left_goes_within_two_solo_runs()
    {
        var truth = Run(200, 40, 0.5, 10, 5);
        var calibration = EngineCalibrator.FromProbe(Run(256, 32, 0.5, 10, 5), null, EnergyMeters.Model);
        for (var i = 0; i < 4; i++)
        {
            calibration = EngineCalibrator.Fold(calibration, truth, null);
        }

        // Twelve runs under load, each worth a quarter of a run, that the load model brought back to
        // twice the engine's solo time (its error); the same runs taken at full worth, for comparison.
        var loaded = calibration;
        var raw = calibration;
        for (var i = 0; i < 12; i++)
        {
            loaded = EngineCalibrator.Fold(loaded, Run(200, 40, 1.0, 20, 10), null, evidence: 0.25);
            raw = EngineCalibrator.Fold(raw, Run(200, 40, 1.0, 20, 10), null);
        }

        double Error(EngineCalibration c) => (EngineCalibrator.PredictMs(c, new RequestShape(200, 40)) / truth.TotalMs) - 1;
        Assert.InRange(Error(raw), 0.8, 1.0);
        Assert.InRange(Error(loaded), 0.2, 0.6);
        Assert.Equal(calibration.Confidence, loaded.Confidence, 9);
        Assert.Equal(0, loaded.Drift);

        // The load ends: the first solo run is far off and, after load, enough to move most of the way.
        loaded = EngineCalibrator.Fold(loaded, truth, null, afterLoad: true);
        loaded = EngineCalibrator.Fold(loaded, truth, null);
        Assert.InRange(Error(loaded), 0, 0.12);
    }

    [Fact]
    public void A_run_worth_nothing_changes_nothing()
    {
        var calibration = EngineCalibrator.FromProbe(Run(256, 32, 0.5, 10, 5), null, EnergyMeters.Model);

        Assert.Same(calibration, EngineCalibrator.Fold(calibration, Run(200, 40, 1.0, 20, 10), null, evidence: 0));
        Assert.Same(calibration, EngineCalibrator.Fold(calibration, Run(200, 40, 1.0, 20, 10), null, evidence: double.NaN));
    }
}
