using MoeMesh.Experts;
using MoeMesh.Generation;

namespace MoeMesh.Routing.CostModel;

/// <summary>What the cost model needs to know about an expert: how much work one token is.</summary>
public sealed record ExpertCostProfile
{
    /// <summary>The expert's id.</summary>
    public required string ExpertId { get; init; }

    /// <summary>Parameters active per token (prefill does about 2 × this many FLOPs per prompt token).</summary>
    public required long ActiveParameters { get; init; }

    /// <summary>Bytes of weights read to decode one token.</summary>
    public required long ActiveWeightBytes { get; init; }

    /// <summary>Bytes of all weights (what must be resident in memory).</summary>
    public long WeightBytes { get; init; }

    /// <summary>The cost facts of a manifest: active parameters and active weight bytes after quantisation.</summary>
    public static ExpertCostProfile FromManifest(ExpertManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new ExpertCostProfile
        {
            ExpertId = manifest.Id,
            ActiveParameters = manifest.ActiveParameters,
            ActiveWeightBytes = manifest.ActiveWeightBytes,
            WeightBytes = manifest.WeightBytes,
        };
    }

    /// <summary>Problems with the figures; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ExpertId))
        {
            problems.Add("expert id is empty");
        }

        if (ActiveParameters < 0)
        {
            problems.Add($"active parameters must not be negative, got {ActiveParameters}");
        }

        if (ActiveWeightBytes < 0)
        {
            problems.Add($"active weight bytes must not be negative, got {ActiveWeightBytes}");
        }

        if (WeightBytes < 0)
        {
            problems.Add($"weight bytes must not be negative, got {WeightBytes}");
        }

        return problems;
    }
}

/// <summary>The size of one request: tokens read and tokens written.</summary>
public readonly record struct RequestShape
{
    /// <summary>Creates a shape; both counts must be zero or more.</summary>
    public RequestShape(int promptTokens, int outputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        PromptTokens = promptTokens;
        OutputTokens = outputTokens;
    }

    /// <summary>Tokens in the prompt (prefill work).</summary>
    public int PromptTokens { get; }

    /// <summary>Tokens generated (decode work).</summary>
    public int OutputTokens { get; }
}

/// <summary>Predicted cost of one expert serving one request on one device.</summary>
/// <param name="PrefillMs">Time to read the prompt.</param>
/// <param name="DecodeMs">Time to generate the output.</param>
/// <param name="TransferMs">Time to send the request to the device and the answer back.</param>
/// <param name="EnergyJoules">Energy the request adds above the device's idle draw.</param>
public readonly record struct CostEstimate(double PrefillMs, double DecodeMs, double TransferMs, double EnergyJoules)
{
    /// <summary>Prefill, decode and transfer together.</summary>
    public double LatencyMs => PrefillMs + DecodeMs + TransferMs;
}

/// <summary>What one finished run measured, used to refine the cost model.</summary>
public sealed record CostObservation
{
    /// <summary>Prompt tokens actually computed (after any reused cache).</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    public required int OutputTokens { get; init; }

    /// <summary>Measured prefill time (time to first token), in milliseconds.</summary>
    public required double PrefillMs { get; init; }

    /// <summary>Measured decode time (first token to last), in milliseconds.</summary>
    public required double DecodeMs { get; init; }

    /// <summary>Measured energy of the whole run above idle, in joules, when a meter was available.</summary>
    public double? EnergyJoules { get; init; }

    /// <summary>An observation from engine metrics and an optional metered energy.</summary>
    public static CostObservation FromMetrics(GenerationMetrics metrics, double? energyJoules = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var prefill = Math.Max(0, metrics.TimeToFirstTokenMs - metrics.QueueMs);
        return new CostObservation
        {
            PromptTokens = Math.Max(0, metrics.PromptTokens - metrics.ReusedPromptTokens),
            OutputTokens = metrics.GeneratedTokens,
            PrefillMs = prefill,
            DecodeMs = Math.Max(0, metrics.TotalMs - metrics.TimeToFirstTokenMs),
            EnergyJoules = energyJoules,
        };
    }

    /// <summary>Problems with the measurement; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (PromptTokens < 0)
        {
            problems.Add($"prompt tokens must not be negative, got {PromptTokens}");
        }

        if (OutputTokens < 0)
        {
            problems.Add($"output tokens must not be negative, got {OutputTokens}");
        }

        CostChecks.NonNegative(problems, "prefill time (ms)", PrefillMs);
        CostChecks.NonNegative(problems, "decode time (ms)", DecodeMs);
        if (EnergyJoules is { } energy)
        {
            CostChecks.NonNegative(problems, "energy (J)", energy);
        }

        return problems;
    }
}

/// <summary>Shared checks: costs must be finite and not negative.</summary>
public static class CostChecks
{
    /// <summary>Adds a problem when <paramref name="value"/> is NaN, infinite or negative.</summary>
    public static void NonNegative(List<string> problems, string what, double value)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (double.IsNaN(value))
        {
            problems.Add($"{what} is NaN (not a number); a cost must be a finite number of zero or more");
        }
        else if (double.IsInfinity(value))
        {
            problems.Add($"{what} is infinite; a cost must be a finite number of zero or more");
        }
        else if (value < 0)
        {
            problems.Add($"{what} is negative ({value}); a cost must be zero or more");
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="value"/> is NaN, infinite or negative.</summary>
    public static void ThrowIfInvalid(double value, string what)
    {
        var problems = new List<string>(1);
        NonNegative(problems, what, value);
        if (problems.Count > 0)
        {
            throw new ArgumentException(problems[0]);
        }
    }
}
