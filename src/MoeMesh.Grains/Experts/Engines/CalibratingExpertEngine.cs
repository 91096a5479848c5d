using System.Runtime.CompilerServices;
using System.Text;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Grains.Experts.Engines;

/// <summary>How a replica measures its engine when it loads.</summary>
public sealed record CalibrationProbe
{
    /// <summary>Prompt tokens the probe prefills (about; the prompt is that many common words).</summary>
    public int PromptTokens { get; init; } = 256;

    /// <summary>Tokens the probe decodes.</summary>
    public int OutputTokens { get; init; } = 32;

    /// <summary>The probe's request: a raw prompt of common words, greedy, no stop strings.</summary>
    public GenerationRequest Request(string runId)
    {
        string[] words = ["the", "time", "of", "day", "and", "night", "is", "a", "long", "way", "to", "go", "for", "all", "people", "in", "this", "world"];
        var text = new StringBuilder();
        for (var i = 0; i < PromptTokens; i++)
        {
            text.Append(i == 0 ? "" : " ").Append(words[i % words.Length]);
        }

        return new GenerationRequest { RawPrompt = text.ToString(), MaxTokens = OutputTokens, Sampling = SamplingOptions.Greedy, RunId = runId };
    }
}

/// <summary>
/// Keeps the replica's calibration of its own engine: <see cref="ProbeAsync"/> measures it once
/// loaded, and every finished run then updates it by the confidence-weighted rule of
/// <see cref="EngineCalibrator.Fold"/>. Runs that ended early (cancelled, failed) teach nothing.
/// </summary>
public sealed class CalibratingExpertEngine(IExpertEngine inner, CalibrationRules? rules = null) : DelegatingExpertEngine(inner)
{
    private readonly CalibrationRules _rules = rules ?? new CalibrationRules();
    private EngineCalibration? _current;

    /// <summary>The calibration now; null until probed or a run has finished.</summary>
    public EngineCalibration? Current => Volatile.Read(ref _current);

    /// <summary>
    /// Warms the engine with a short run (the first decode allocates buffers and is slow), then runs
    /// <paramref name="probe"/> and takes what it measured as the calibration.
    /// </summary>
    public async Task<EngineCalibration?> ProbeAsync(CalibrationProbe probe, string energyMeter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var warm = new CalibrationProbe { PromptTokens = Math.Min(16, probe.PromptTokens), OutputTokens = Math.Min(4, probe.OutputTokens) };
        if (await RunAsync(warm.Request("calibration-warmup"), cancellationToken) is not { Simulated: false })
        {
            return null;
        }

        var request = probe.Request("calibration-probe");
        if (await RunAsync(request, cancellationToken) is not { Simulated: false } metrics)
        {
            return null;
        }

        var measured = EngineCalibrator.FromProbe(metrics, metrics.EnergyJoules, metrics.EnergySource ?? energyMeter, _rules, EngineCalibrator.EstimatePromptTokens(request));
        Volatile.Write(ref _current, measured);
        return measured;
    }

    public override async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
        {
            if (chunk.Metrics is { Simulated: false } metrics)
            {
                Learn(metrics, EngineCalibrator.EstimatePromptTokens(request));
            }

            yield return chunk;
        }
    }

    private void Learn(GenerationMetrics metrics, int estimatedPromptTokens)
    {
        while (true)
        {
            var current = Volatile.Read(ref _current);
            var next = current is null
                ? EngineCalibrator.FromProbe(metrics, metrics.EnergyJoules, metrics.EnergySource ?? EnergyMeters.Model, _rules with { ProbeConfidence = 1 }, estimatedPromptTokens)
                : EngineCalibrator.Fold(current, metrics, metrics.EnergyJoules, _rules, estimatedPromptTokens);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
            {
                return;
            }
        }
    }

    private async Task<GenerationMetrics?> RunAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        GenerationMetrics? metrics = null;
        await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
        {
            metrics ??= chunk.Metrics;
        }

        return metrics;
    }
}
