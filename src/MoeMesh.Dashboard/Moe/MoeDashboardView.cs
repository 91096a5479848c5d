using MoeMesh.TokenPath;

namespace MoeMesh.Dashboard.Moe;

/// <summary>What <c>/api/moe</c> answers: every Mixture-of-Experts model in the catalog with its token-path totals.</summary>
internal sealed record MoeDashboardView(DateTimeOffset TakenAt, IReadOnlyList<MoeModelView> Models, IReadOnlyList<string> Warnings);

/// <summary>One MoE model: routing counts per layer × expert, hop latency, bytes per token and where its shards live.</summary>
internal sealed record MoeModelView
{
    public required string Model { get; init; }

    public required string DisplayName { get; init; }

    /// <summary>Layers and routed experts per layer as the recorded generations saw them; 0 before the first generation.</summary>
    public required int Layers { get; init; }

    public required int Experts { get; init; }

    public required long Generations { get; init; }

    public required long Tokens { get; init; }

    public required long Hops { get; init; }

    public required long FrameBytes { get; init; }

    public required double BytesPerToken { get; init; }

    /// <summary>Hop latency of the most recent generation, in microseconds.</summary>
    public required double HopP50Us { get; init; }

    public required double HopP99Us { get; init; }

    public required MoeDeviations Deviations { get; init; }

    /// <summary>Routing counts, one row per layer, one column per expert.</summary>
    public required IReadOnlyList<long[]> Routing { get; init; }

    /// <summary>The largest count in <see cref="Routing"/>: the heat map's full colour.</summary>
    public required long MaxCount { get; init; }

    public required IReadOnlyList<MoeShardView> Shards { get; init; }
}

/// <summary>One loaded shard replica: a layer's experts [first, first + count) on a silo.</summary>
internal sealed record MoeShardView(int Layer, int Shard, int FirstExpert, int ExpertCount, int Replica, string Silo, string SiloName, long ResidentBytes);
