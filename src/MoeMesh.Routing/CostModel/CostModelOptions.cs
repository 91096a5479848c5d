namespace MoeMesh.Routing.CostModel;

/// <summary>
/// Rules of thumb the roofline prior starts from (see the hardware notes in the repository docs).
/// Every figure can be overridden; <see cref="Validate"/> lists the ones out of range.
/// </summary>
public sealed record CostModelOptions
{
    /// <summary>Share of peak memory bandwidth llama.cpp reaches while decoding (typically 0.5–0.75).</summary>
    public double DecodeBandwidthEfficiency { get; init; } = 0.6;

    /// <summary>Share of the fp16 tensor peak reached during prefill (typically 0.3–0.6).</summary>
    public double PrefillComputeEfficiency { get; init; } = 0.4;

    /// <summary>Share of the device's idle-to-max power range drawn while decoding (memory-bound, so well below the peak).</summary>
    public double DecodeLoadFraction { get; init; } = 0.6;

    /// <summary>Share of the idle-to-max power range drawn during prefill (compute-bound).</summary>
    public double PrefillLoadFraction { get; init; } = 0.9;

    /// <summary>Round trip between boxes on the local network, in milliseconds (gigabit LAN: 0.2–0.5).</summary>
    public double LanRoundTripMs { get; init; } = 0.5;

    /// <summary>Throughput between boxes, in bytes per second (gigabit Ethernet ≈ 110 MB/s).</summary>
    public double LanBytesPerSecond { get; init; } = 110e6;

    /// <summary>Round trip to a hosted (cloud) model, in milliseconds.</summary>
    public double CloudRoundTripMs { get; init; } = 60;

    /// <summary>A hosted model's time to first token beyond the round trip, in milliseconds.</summary>
    public double CloudTimeToFirstTokenMs { get; init; } = 400;

    /// <summary>A hosted model's generation speed, in tokens per second.</summary>
    public double CloudTokensPerSecond { get; init; } = 90;

    /// <summary>Bytes of text per token, for transfer sizes (about 4 characters per token).</summary>
    public double BytesPerToken { get; init; } = 4;

    /// <summary>How many measurements the roofline prior is worth: with 4, the first measurement moves the estimate a fifth of the way.</summary>
    public double PriorWeight { get; init; } = 4;

    /// <summary>
    /// The most measurements the running estimate averages over; older ones fade so the estimate
    /// follows a device that warms up, throttles or changes power mode.
    /// </summary>
    public int MaxEffectiveObservations { get; init; } = 64;

    /// <summary>Problems with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Fraction(problems, nameof(DecodeBandwidthEfficiency), DecodeBandwidthEfficiency);
        Fraction(problems, nameof(PrefillComputeEfficiency), PrefillComputeEfficiency);
        Fraction(problems, nameof(DecodeLoadFraction), DecodeLoadFraction);
        Fraction(problems, nameof(PrefillLoadFraction), PrefillLoadFraction);
        NonNegative(problems, nameof(LanRoundTripMs), LanRoundTripMs);
        Positive(problems, nameof(LanBytesPerSecond), LanBytesPerSecond);
        NonNegative(problems, nameof(CloudRoundTripMs), CloudRoundTripMs);
        NonNegative(problems, nameof(CloudTimeToFirstTokenMs), CloudTimeToFirstTokenMs);
        Positive(problems, nameof(CloudTokensPerSecond), CloudTokensPerSecond);
        Positive(problems, nameof(BytesPerToken), BytesPerToken);
        NonNegative(problems, nameof(PriorWeight), PriorWeight);
        if (MaxEffectiveObservations < 1)
        {
            problems.Add($"{nameof(MaxEffectiveObservations)} must be at least 1, got {MaxEffectiveObservations}");
        }

        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void EnsureValid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid cost model options: {string.Join("; ", problems)}");
        }
    }

    private static void Fraction(List<string> problems, string name, double value)
    {
        if (!double.IsFinite(value) || value <= 0 || value > 1)
        {
            problems.Add($"{name} must be in (0, 1], got {value}");
        }
    }

    private static void Positive(List<string> problems, string name, double value)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            problems.Add($"{name} must be a positive number, got {value}");
        }
    }

    private static void NonNegative(List<string> problems, string name, double value)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            problems.Add($"{name} must be zero or more, got {value}");
        }
    }
}
