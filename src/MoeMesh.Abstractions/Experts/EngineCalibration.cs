namespace MoeMesh.Experts;

/// <summary>
/// What one replica measured of its own engine: a probe when it loads, then every run it serves.
/// Times are per token so the router can cost any request shape; <see cref="Confidence"/> says how
/// many runs' worth of evidence stand behind the figures.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.engine-calibration")]
public sealed record EngineCalibration
{
    /// <summary>Milliseconds to compute one prompt token during prefill.</summary>
    [Id(0)] public required double PrefillMsPerToken { get; init; }

    /// <summary>Milliseconds per generated token after the first, decoding alone.</summary>
    [Id(1)] public required double DecodeMsPerToken { get; init; }

    /// <summary>Fixed time per request in the engine (templating, tokenizing, sampler set-up), in milliseconds.</summary>
    [Id(2)] public required double OverheadMs { get; init; }

    /// <summary>Power above idle the silo's meter saw while the engine ran alone, in watts.</summary>
    [Id(3)] public double BusyWatts { get; init; }

    /// <summary>
    /// How much slower each sequence decodes per other sequence sharing the engine: per-token time
    /// is multiplied by 1 + this × (others).
    /// </summary>
    [Id(4)] public double LoadSlowdown { get; init; } = 0.5;

    /// <summary>Runs' worth of evidence behind the figures (a probe counts several).</summary>
    [Id(5)] public double Confidence { get; init; }

    /// <summary>Runs folded in, the probe included.</summary>
    [Id(6)] public int Observations { get; init; }

    /// <summary>The meter <see cref="BusyWatts"/> came from ("nvml", "ina3221", "rapl", "model").</summary>
    [Id(7)] public string EnergyMeter { get; init; } = "model";

    /// <summary>
    /// The direction of the last run that took much longer (+1) or shorter (-1) than predicted, 0 when
    /// it matched: a second surprise the same way means the engine changed, and the estimate jumps.
    /// </summary>
    [Id(8)] public int Drift { get; init; }

    /// <summary>
    /// Prompt tokens the engine's tokenizer makes per token estimated from characters (four a token,
    /// plus the chat template): what turns the router's estimate of a prompt into the engine's count.
    /// </summary>
    [Id(9)] public double PromptTokenRatio { get; init; } = 1;

    /// <summary>Prompt tokens computed per second.</summary>
    public double PrefillTokensPerSecond => PrefillMsPerToken > 0 ? 1000 / PrefillMsPerToken : 0;

    /// <summary>Tokens generated per second, decoding alone.</summary>
    public double DecodeTokensPerSecond => DecodeMsPerToken > 0 ? 1000 / DecodeMsPerToken : 0;

    /// <summary>True when the energy figures are the device-profile model's estimate, not a hardware meter's.</summary>
    public bool EnergyEstimated => EnergyMeters.IsEstimated(EnergyMeter);
}

/// <summary>Names of energy meters, and which of them estimate rather than measure.</summary>
public static class EnergyMeters
{
    /// <summary>The device-profile model: idle power when idle, busy power while generating.</summary>
    public const string Model = "model";

    /// <summary>True when energy from <paramref name="meter"/> is an estimate, not a hardware reading.</summary>
    public static bool IsEstimated(string? meter) => meter is null or Model;

    /// <summary>True when a run's energy from <paramref name="meter"/> is the device-profile model's estimate.</summary>
    public static bool IsEstimated(Generation.MeterKind meter) => meter == Generation.MeterKind.Model;
}
