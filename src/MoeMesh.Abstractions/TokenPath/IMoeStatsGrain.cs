namespace MoeMesh.TokenPath;

/// <summary>
/// Running totals of one Mixture-of-Experts model's token path (key: the model id), for the
/// dashboard: per-layer × expert routing counts (a heat map), hop latency and bytes per token.
/// </summary>
public interface IMoeStatsGrain : IGrainWithStringKey
{
    /// <summary>Adds a finished generation.</summary>
    Task RecordAsync(MoeGenerationResult result, int layerCount, int promptTokens);

    Task<MoeStatsSnapshot> GetAsync();
}

/// <summary>The totals so far.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.moe-stats")]
public sealed record MoeStatsSnapshot
{
    [Id(0)] public required string ModelId { get; init; }

    [Id(1)] public required int LayerCount { get; init; }

    [Id(2)] public required int ExpertCount { get; init; }

    /// <summary>Layer × expert, row-major.</summary>
    [Id(3)] public required long[] RoutingCounts { get; init; }

    [Id(4)] public required long Generations { get; init; }

    /// <summary>Tokens that went through the layers (prompt and generated).</summary>
    [Id(5)] public required long Tokens { get; init; }

    [Id(6)] public required long Hops { get; init; }

    [Id(7)] public required long FrameBytes { get; init; }

    /// <summary>Median and 99th percentile of the most recent generation's hops, in microseconds.</summary>
    [Id(8)] public required double LastHopP50Us { get; init; }

    [Id(9)] public required double LastHopP99Us { get; init; }

    [Id(10)] public required MoeDeviations Deviations { get; init; }

    public double BytesPerToken => Tokens == 0 ? 0 : FrameBytes / (double)Tokens;
}
