using MoeMesh.Experts;
using MoeMesh.Generation;

namespace MoeMesh.Routing.CostModel;

/// <summary>How much each kind of evidence weighs when a calibration is built and updated.</summary>
public sealed record CalibrationRules
{
    /// <summary>What a load-time probe is worth, in runs.</summary>
    public double ProbeConfidence { get; init; } = 2;

    /// <summary>What a roofline prior scaled from other experts is worth, in runs: little, so the first real run dominates.</summary>
    public double PriorConfidence { get; init; } = 0.5;

    /// <summary>
    /// The most evidence the estimate keeps; past it each run still moves the estimate by at least
    /// 1 / (this + 1), so a device that throttles or changes power mode is followed within a few runs.
    /// </summary>
    public double MaxConfidence { get; init; } = 4;

    /// <summary>Prompts shorter than this teach nothing about prefill speed (fixed costs dominate).</summary>
    public int MinPrefillTokens { get; init; } = 16;

    /// <summary>Outputs shorter than this teach nothing about decode speed.</summary>
    public int MinDecodeTokens { get; init; } = 4;

    /// <summary>A run whose engine time is off the prediction by more than this factor is a surprise.</summary>
    public double SurpriseRatio { get; init; } = 1.35;

    /// <summary>What the estimate is worth after two surprises the same way: the next runs move it most of the way.</summary>
    public double DriftConfidence { get; init; } = 0.5;
}

/// <summary>
/// Builds, updates and applies engine calibrations: an engine's time for a request is its fixed
/// overhead plus prompt tokens at the prefill rate plus generated tokens at the decode rate, slowed
/// by the other sequences sharing it; its energy is that busy time at the measured busy power,
/// shared with those sequences (the way the silo's energy accountant shares a meter's increment).
/// </summary>
public static class EngineCalibrator
{
    private const double MaxLoadSlowdown = 4;

    /// <summary>Tokens the chat template adds to a conversation, as routers estimate prompts.</summary>
    public const int TemplateTokens = 32;

    /// <summary>Prompt tokens estimated from characters: four a token, plus the chat template for a conversation.</summary>
    public static int EstimatePromptTokens(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.RawPrompt is { } raw
            ? (int)Math.Ceiling(raw.Length / 4.0)
            : (int)Math.Ceiling(request.Messages.Sum(m => m.Content.Length) / 4.0) + TemplateTokens;
    }

    /// <summary>Engine time, in milliseconds, for <paramref name="shape"/> with <paramref name="others"/> other sequences running.</summary>
    public static double PredictMs(EngineCalibration calibration, RequestShape shape, int others = 0)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var compute = (shape.PromptTokens * calibration.PrefillMsPerToken) + (Math.Max(0, shape.OutputTokens - 1) * calibration.DecodeMsPerToken);
        return calibration.OverheadMs + (compute * LoadFactor(calibration, others));
    }

    /// <summary>This request's share of the energy above idle over <paramref name="engineMs"/>, in joules.</summary>
    public static double PredictJoules(EngineCalibration calibration, double engineMs, int others = 0)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        return engineMs / 1000 * calibration.BusyWatts / (1 + Math.Max(0, others));
    }

    /// <summary>
    /// The most tokens that fit <paramref name="budgetMs"/> after the prompt, at least 1 (a request
    /// that cannot fit still says something rather than nothing); no cap without a decode speed.
    /// </summary>
    public static int MaxOutputTokens(EngineCalibration calibration, int promptTokens, double budgetMs, int others = 0)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var perToken = calibration.DecodeMsPerToken * LoadFactor(calibration, others);
        var left = budgetMs - PredictMs(calibration, new RequestShape(promptTokens, 1), others);
        if (left <= 0)
        {
            return 1;
        }

        if (perToken <= 0)
        {
            // No decode speed measured yet: nothing to cap by; the engine still stops at the deadline.
            return int.MaxValue;
        }

        return (int)Math.Clamp(1 + Math.Floor(left / perToken), 1, int.MaxValue);
    }

    /// <summary>Per-token time multiplier with <paramref name="others"/> sequences sharing the engine.</summary>
    public static double LoadFactor(EngineCalibration calibration, int others)
        => 1 + (calibration.LoadSlowdown * Math.Max(0, others));

    /// <summary>The calibration a probe run measured, worth <see cref="CalibrationRules.ProbeConfidence"/> runs.</summary>
    public static EngineCalibration FromProbe(GenerationMetrics metrics, double? energyJoules, string meter, CalibrationRules? rules = null, int? estimatedPromptTokens = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        rules ??= new CalibrationRules();
        var computed = Math.Max(0, metrics.PromptTokens - metrics.ReusedPromptTokens);
        var prefill = metrics.PrefillTokensPerSecond > 0 ? 1000 / metrics.PrefillTokensPerSecond : 0;
        var decode = metrics.DecodeTokensPerSecond > 0 ? 1000 / metrics.DecodeTokensPerSecond : 0;
        var busyMs = Math.Max(0, metrics.TotalMs - metrics.QueueMs);
        var overhead = busyMs - (computed * prefill) - (Math.Max(0, metrics.GeneratedTokens - 1) * decode);
        return new EngineCalibration
        {
            PrefillMsPerToken = prefill,
            DecodeMsPerToken = decode,
            OverheadMs = Math.Max(0, overhead),
            BusyWatts = energyJoules is { } j && busyMs > 0 ? j / (busyMs / 1000) : 0,
            Confidence = rules.ProbeConfidence,
            Observations = 1,
            EnergyMeter = meter,
            PromptTokenRatio = estimatedPromptTokens is > 0 && metrics.PromptTokens > 0 ? metrics.PromptTokens / (double)estimatedPromptTokens.Value : 1,
        };
    }

    /// <summary>
    /// Folds one finished run into <paramref name="current"/>: each figure moves toward the run's by
    /// 1 / (confidence + 1), rates in log space so a run twice as fast weighs like one twice as slow;
    /// two surprises the same way in a row cut the confidence so a changed engine is followed within a
    /// few runs. Runs alone on the engine teach its speeds, overhead and busy power; runs shared with
    /// other sequences teach only how much sharing slows it. <paramref name="evidence"/> is what the
    /// run is worth, in runs: below 1 for a run that met load elsewhere on its host and was brought
    /// back to the calibration's terms by a model of that load, whose error would otherwise be learned
    /// as the engine's own speed and unlearned only over many runs once the load is gone. Such a run
    /// adds only its worth to the confidence, and is no evidence that the engine changed (no drift).
    /// <paramref name="afterLoad"/> says the estimate has taken such runs since its last full one: then
    /// one surprise of a full run is enough for the jump, since what load left behind is the likely cause.
    /// </summary>
    public static EngineCalibration Fold(EngineCalibration current, GenerationMetrics metrics, double? energyJoules, CalibrationRules? rules = null, int? estimatedPromptTokens = null, double evidence = 1, bool afterLoad = false)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(metrics);
        rules ??= new CalibrationRules();
        if (metrics.Simulated || metrics.TotalMs <= 0 || !double.IsFinite(evidence) || evidence <= 0)
        {
            return current;
        }

        evidence = Math.Min(evidence, 1);

        var others = Math.Max(0, metrics.BatchSize - 1);
        var load = LoadFactor(current, others);
        var computed = Math.Max(0, metrics.PromptTokens - metrics.ReusedPromptTokens);
        var generated = metrics.GeneratedTokens;
        var busyMs = Math.Max(0, metrics.TotalMs - metrics.QueueMs);
        var drift = evidence < 1 ? current.Drift : Surprise(current, busyMs, new RequestShape(computed, generated), others, rules);
        var changed = evidence >= 1 && drift != 0 && (drift == current.Drift || afterLoad);
        var weight = changed ? Math.Min(current.Confidence, rules.DriftConfidence) : current.Confidence;

        double? prefillSeen = metrics.PrefillTokensPerSecond > 0 && computed >= rules.MinPrefillTokens ? 1000 / metrics.PrefillTokensPerSecond : null;
        double? decodeSeen = metrics.DecodeTokensPerSecond > 0 && generated >= rules.MinDecodeTokens ? 1000 / metrics.DecodeTokensPerSecond : null;
        var prefillRaw = prefillSeen ?? (current.PrefillMsPerToken * load);
        var decodeRaw = decodeSeen ?? (current.DecodeMsPerToken * load);
        var overheadSeen = Math.Max(0, busyMs - (computed * prefillRaw) - (Math.Max(0, generated - 1) * decodeRaw));

        var tokenRatio = estimatedPromptTokens is > 0 && metrics.PromptTokens > 0
            ? LogLinear(current.PromptTokenRatio, metrics.PromptTokens / (double)estimatedPromptTokens.Value, current.Confidence, 1)
            : current.PromptTokenRatio;
        if (others > 0)
        {
            // A shared run says how much sharing slows the engine, not how fast it is alone.
            var slowdown = current.LoadSlowdown;
            if (decodeSeen is { } shared && current.DecodeMsPerToken > 0)
            {
                var seen = Math.Clamp(((shared / current.DecodeMsPerToken) - 1) / others, 0, MaxLoadSlowdown);
                slowdown = Linear(slowdown, seen, weight, evidence);
            }

            return current with
            {
                LoadSlowdown = slowdown,
                PromptTokenRatio = tokenRatio,
                Confidence = Math.Min(weight + evidence, rules.MaxConfidence),
                Observations = current.Observations + 1,
                Drift = drift,
            };
        }

        return current with
        {
            PrefillMsPerToken = prefillSeen is { } p ? LogLinear(current.PrefillMsPerToken, p, weight, evidence) : current.PrefillMsPerToken,
            DecodeMsPerToken = decodeSeen is { } d ? LogLinear(current.DecodeMsPerToken, d, weight, evidence) : current.DecodeMsPerToken,
            OverheadMs = Linear(current.OverheadMs, overheadSeen, weight, evidence),
            BusyWatts = energyJoules is { } joules && busyMs > 0 ? Linear(current.BusyWatts, joules / (busyMs / 1000), weight, evidence) : current.BusyWatts,
            PromptTokenRatio = tokenRatio,
            Confidence = Math.Min(weight + evidence, rules.MaxConfidence),
            Observations = current.Observations + 1,
            Drift = drift,
        };
    }

    /// <summary>+1 when the run took much longer than predicted, -1 much shorter, 0 otherwise.</summary>
    private static int Surprise(EngineCalibration current, double busyMs, RequestShape shape, int others, CalibrationRules rules)
    {
        var predicted = PredictMs(current, shape, others);
        if (predicted <= 0 || busyMs <= 0)
        {
            return 0;
        }

        var ratio = busyMs / predicted;
        return ratio > rules.SurpriseRatio ? 1 : ratio < 1 / rules.SurpriseRatio ? -1 : 0;
    }

    /// <summary>
    /// A calibration for an expert not yet measured: its roofline on the silo's device, with each
    /// phase scaled by how far the other experts measured on that silo stand from their own rooflines
    /// (<paramref name="scale"/>), worth <see cref="CalibrationRules.PriorConfidence"/> runs.
    /// </summary>
    public static EngineCalibration Prior(CostEstimate rooflinePerToken, SiloScale scale, CalibrationRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        rules ??= new CalibrationRules();
        return new EngineCalibration
        {
            PrefillMsPerToken = rooflinePerToken.PrefillMs * scale.Prefill,
            DecodeMsPerToken = rooflinePerToken.DecodeMs * scale.Decode,
            OverheadMs = scale.OverheadMs,
            BusyWatts = scale.BusyWatts,
            LoadSlowdown = scale.LoadSlowdown,
            PromptTokenRatio = scale.PromptTokenRatio,
            Confidence = rules.PriorConfidence,
            EnergyMeter = scale.EnergyMeter,
        };
    }

    private static double LogLinear(double current, double seen, double weight, double evidence)
    {
        if (current <= 0 || weight <= 0)
        {
            return seen;
        }

        return Math.Exp(((Math.Log(current) * weight) + (Math.Log(Math.Max(seen, 1e-9)) * evidence)) / (weight + evidence));
    }

    private static double Linear(double current, double seen, double weight, double evidence)
        => weight <= 0 ? seen : ((current * weight) + (seen * evidence)) / (weight + evidence);
}

/// <summary>
/// How one silo's measured experts compare with their rooflines: per-phase ratios (geometric means),
/// and the overhead, busy power and load slowdown they share.
/// </summary>
public sealed record SiloScale(double Prefill, double Decode, double OverheadMs, double BusyWatts, double LoadSlowdown, string EnergyMeter, double PromptTokenRatio = 1)
{
    /// <summary>No measurements: the roofline as it is, no overhead, the given busy power.</summary>
    public static SiloScale Unmeasured(double busyWatts, string energyMeter = EnergyMeters.Model) => new(1, 1, 0, busyWatts, 0.5, energyMeter);

    /// <summary>
    /// The scale from measured experts on one silo: each pair is an expert's calibration and its
    /// roofline per token (prefill and decode milliseconds of one token). Null when there are none.
    /// </summary>
    public static SiloScale? From(IReadOnlyList<(EngineCalibration Measured, CostEstimate RooflinePerToken)> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var usable = measured.Where(m => m.RooflinePerToken.PrefillMs > 0 && m.RooflinePerToken.DecodeMs > 0 && m.Measured.DecodeMsPerToken > 0).ToList();
        if (usable.Count == 0)
        {
            return null;
        }

        double Geo(Func<(EngineCalibration Measured, CostEstimate RooflinePerToken), double> ratio)
            => Math.Exp(usable.Average(m => Math.Log(Math.Max(ratio(m), 1e-9))));

        return new SiloScale(
            Geo(m => m.Measured.PrefillMsPerToken / m.RooflinePerToken.PrefillMs),
            Geo(m => m.Measured.DecodeMsPerToken / m.RooflinePerToken.DecodeMs),
            usable.Average(m => m.Measured.OverheadMs),
            usable.Average(m => m.Measured.BusyWatts),
            usable.Average(m => m.Measured.LoadSlowdown),
            usable[0].Measured.EnergyMeter,
            usable.Average(m => m.Measured.PromptTokenRatio));
    }
}
