using System.Runtime.CompilerServices;
using System.Text;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Residency;
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
/// A run that met generations of other engines on the silo (or more of its own than its batch
/// says) was slowed by them on the shared cores, by an amount the replica has no model of: it is
/// worth 1 / (1 + the most it met at once)² of a run, so a busy spell does not become the engine's
/// solo speed, which its token cap under a deadline reads (a cap too high still stops at the
/// deadline; one too low stops runs far short of their budget). The first run alone after such
/// runs corrects the estimate at once.
/// </summary>
/// <param name="inner">The engine.</param>
/// <param name="rules">What each kind of evidence weighs.</param>
/// <param name="generations">
/// The silo's running generations, shared by its replicas; by default those counted by the
/// residency tracking further in the chain, or this engine's own runs when there is none.
/// </param>
public sealed class CalibratingExpertEngine(IExpertEngine inner, CalibrationRules? rules = null, SiloGenerations? generations = null) : DelegatingExpertEngine(inner)
{
    private readonly CalibrationRules _rules = rules ?? new CalibrationRules();
    private SiloGenerations? _generations = generations;
    private EngineCalibration? _current;

    // Set while the estimate has taken runs that met load since its last run alone.
    private int _afterLoad;

    /// <summary>The calibration now; null until probed or a run has finished.</summary>
    public EngineCalibration? Current => Volatile.Read(ref _current);

    /// <summary>
    /// Warms the engine with a short run (the first decode allocates buffers and is slow), then runs
    /// <paramref name="probe"/> and takes what it measured as the calibration, worth less when other
    /// generations ran on the silo meanwhile (a replica loading beside busy ones).
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
        using var run = Generations().Begin();
        if (await RunAsync(request, cancellationToken) is not { Simulated: false } metrics)
        {
            return null;
        }

        var evidence = Evidence(run, metrics);
        var rules = _rules with { ProbeConfidence = _rules.ProbeConfidence * evidence };
        var measured = EngineCalibrator.FromProbe(metrics, metrics.EnergyJoules, metrics.EnergySource ?? energyMeter, rules, EngineCalibrator.EstimatePromptTokens(request));
        Volatile.Write(ref _current, measured);
        Volatile.Write(ref _afterLoad, evidence < 1 ? 1 : 0);
        return measured;
    }

    public override async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var run = Generations().Begin();
        await foreach (var chunk in Inner.GenerateAsync(request, cancellationToken))
        {
            if (chunk.Metrics is { Simulated: false } metrics)
            {
                Learn(metrics, EngineCalibrator.EstimatePromptTokens(request), Evidence(run, metrics));
            }

            yield return chunk;
        }
    }

    /// <summary>What a run is worth, in runs: 1 / (1 + the most other generations it met beyond its own batch)².</summary>
    private static double Evidence(SiloGenerations.Run run, GenerationMetrics metrics)
    {
        // Sequences of this replica's batch are the calibration's own load slowdown; only the rest is outside it.
        var outside = Math.Max(0, run.OthersMet - Math.Max(0, metrics.BatchSize - 1));
        return 1.0 / ((1 + outside) * (1 + outside));
    }

    private SiloGenerations Generations()
    {
        if (Volatile.Read(ref _generations) is { } known)
        {
            return known;
        }

        var found = Inner.GetService<ResidencyTrackingExpertEngine>()?.Generations ?? new SiloGenerations();
        return Interlocked.CompareExchange(ref _generations, found, null) ?? found;
    }

    private void Learn(GenerationMetrics metrics, int estimatedPromptTokens, double evidence)
    {
        var afterLoad = Volatile.Read(ref _afterLoad) != 0;
        while (true)
        {
            var current = Volatile.Read(ref _current);
            var next = current is null
                ? EngineCalibrator.FromProbe(metrics, metrics.EnergyJoules, metrics.EnergySource ?? EnergyMeters.Model, _rules with { ProbeConfidence = evidence }, estimatedPromptTokens)
                : EngineCalibrator.Fold(current, metrics, metrics.EnergyJoules, _rules, estimatedPromptTokens, evidence, afterLoad);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
            {
                break;
            }
        }

        if (evidence < 1)
        {
            Volatile.Write(ref _afterLoad, 1);
        }
        else if (metrics.BatchSize <= 1)
        {
            // A full run alone has now corrected the solo speeds; a shared one teaches only the slowdown.
            Volatile.Write(ref _afterLoad, 0);
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
