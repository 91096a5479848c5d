using MoeMesh.Generation;
using Microsoft.Extensions.Logging.Abstractions;
using MoeMesh.Experts;
using MoeMesh.Grains.Experts.Engines;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Residency;
using MoeMesh.Inference.Engines;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Tests.Experts.Engines;

public sealed class CalibratingExpertEngineTests
{
    private static KnownSpeedEngine Engine() => new(ManifestFiles.Scripted("known", ["general"]));

    [Fact]
    public async Task The_probe_measures_the_speeds_the_engine_runs_at()
    {
        var engine = Engine();
        var calibrating = new CalibratingExpertEngine(engine);

        var calibration = await calibrating.ProbeAsync(new CalibrationProbe { PromptTokens = 256, OutputTokens = 32 }, "model");

        Assert.NotNull(calibration);
        Assert.Same(calibration, calibrating.Current);
        Assert.Equal(2000, calibration.PrefillTokensPerSecond, 3);
        Assert.Equal(100, calibration.DecodeTokensPerSecond, 3);
        Assert.Equal(5, calibration.OverheadMs, 3);

        // A warm-up run first (the first decode allocates buffers), then the probe itself.
        Assert.Equal(2, engine.Requests.Count);
        Assert.Equal(256, KnownSpeedEngine.PromptTokens(engine.Requests[1]));
        Assert.Equal(32, engine.Requests[1].MaxTokens);
    }

    [Fact]
    public async Task Runs_update_the_calibration_and_a_slower_engine_is_followed_within_a_few_runs()
    {
        var engine = Engine();
        var calibrating = new CalibratingExpertEngine(engine);
        await calibrating.ProbeAsync(new CalibrationProbe(), "model");

        engine.DecodeMsPerToken = 25;
        engine.PrefillMsPerToken = 1.25;
        var request = new GenerationRequest { RawPrompt = string.Join(' ', Enumerable.Repeat("word", 120)), MaxTokens = 48 };
        for (var i = 0; i < 4; i++)
        {
            await Drain(calibrating.GenerateAsync(request));
        }

        var predicted = EngineCalibrator.PredictMs(calibrating.Current!, new RequestShape(120, 48));
        var truth = 5 + (120 * 1.25) + (47 * 25);
        Assert.InRange(Math.Abs(predicted - truth) / truth, 0, 0.12);
        Assert.Equal(5, calibrating.Current!.Observations);
    }

    [Fact]
    public async Task Without_a_probe_the_first_run_calibrates()
    {
        var calibrating = new CalibratingExpertEngine(Engine());
        Assert.Null(calibrating.Current);

        await Drain(calibrating.GenerateAsync(new GenerationRequest { RawPrompt = string.Join(' ', Enumerable.Repeat("w", 64)), MaxTokens = 16 }));

        Assert.Equal(100, calibrating.Current!.DecodeTokensPerSecond, 3);
        Assert.Equal(1, calibrating.Current.Confidence);
    }

    [Fact]
    public async Task Runs_slowed_by_other_engines_of_the_silo_do_not_become_the_solo_speed_and_a_run_alone_corrects_at_once()
    {
        var engine = Engine();
        var generations = new SiloGenerations();
        var calibrating = new CalibratingExpertEngine(engine, generations: generations);
        await calibrating.ProbeAsync(new CalibrationProbe(), "model");
        var request = new GenerationRequest { RawPrompt = string.Join(' ', Enumerable.Repeat("word", 120)), MaxTokens = 48 };
        var shape = new RequestShape(120, 48);
        var solo = 5 + (120 * 0.5) + (47 * 10);

        // Three generations of other engines run on the silo through ten runs, which take twice as long.
        var others = Enumerable.Range(0, 3).Select(_ => generations.Begin()).ToList();
        engine.DecodeMsPerToken = 20;
        engine.PrefillMsPerToken = 1;
        for (var i = 0; i < 10; i++)
        {
            await Drain(calibrating.GenerateAsync(request));
        }

        var underLoad = EngineCalibrator.PredictMs(calibrating.Current!, shape);
        Assert.InRange(underLoad / solo, 1, 1.25);

        others.ForEach(o => o.Dispose());
        engine.DecodeMsPerToken = 10;
        engine.PrefillMsPerToken = 0.5;
        await Drain(calibrating.GenerateAsync(request));

        // Taken at full weight, the ten runs would have made the solo estimate nearly twice the truth.
        var afterOne = EngineCalibrator.PredictMs(calibrating.Current!, shape);
        Assert.InRange(afterOne / solo, 0.95, Math.Min(1.15, underLoad / solo));
        Assert.Equal(0, generations.Running);
    }

    [Fact]
    public async Task A_probe_beside_a_busy_engine_is_worth_less()
    {
        var generations = new SiloGenerations();
        var calibrating = new CalibratingExpertEngine(Engine(), generations: generations);
        using var other = generations.Begin();

        var calibration = await calibrating.ProbeAsync(new CalibrationProbe(), "model");

        Assert.Equal(new CalibrationRules().ProbeConfidence / 4, calibration!.Confidence, 9);
    }

    [Fact]
    public void A_run_counts_the_most_generations_it_met_on_the_silo()
    {
        var generations = new SiloGenerations();
        var run = generations.Begin();
        var first = generations.Begin();
        var second = generations.Begin();
        first.Dispose();
        first.Dispose();
        second.Dispose();
        var later = generations.Begin();

        Assert.Equal(2, run.OthersMet);
        Assert.Equal(2, second.OthersMet);
        Assert.Equal(1, later.OthersMet);
        Assert.Equal(2, generations.Running);
        run.Dispose();
        later.Dispose();
        Assert.Equal(0, generations.Running);
    }

    [Fact]
    public async Task Without_a_counter_given_the_calibration_counts_on_the_residency_further_in()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var residency = new ExpertResidency(new ModelMemoryBudget(1L << 30), time, NullLogger<ExpertResidency>.Instance);
        var composed = Engine().AsBuilder()
            .UseCalibration()
            .UseResidency(residency, new ExpertReplica("known", 0), time)
            .Build();
        using var other = residency.Generations.Begin();

        await Drain(composed.GenerateAsync(new GenerationRequest { RawPrompt = string.Join(' ', Enumerable.Repeat("w", 64)), MaxTokens = 16 }));

        // The first run met another generation: it calibrates, worth a quarter of a run.
        Assert.Equal(0.25, composed.GetService<CalibratingExpertEngine>()!.Current!.Confidence, 9);
        Assert.Equal(1, residency.Generations.Running);
    }

    internal static async Task<GenerationMetrics> Drain(IAsyncEnumerable<GenerationChunk> stream)
    {
        GenerationMetrics? metrics = null;
        await foreach (var chunk in stream)
        {
            metrics ??= chunk.Metrics;
        }

        return metrics ?? throw new InvalidOperationException("the stream ended without metrics");
    }
}
