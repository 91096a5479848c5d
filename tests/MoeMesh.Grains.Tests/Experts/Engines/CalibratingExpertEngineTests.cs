using MoeMesh.Generation;
using MoeMesh.Grains.Experts.Engines;
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
