using MoeMesh.Generation;

namespace MoeMesh.Experts;

/// <summary>What an expert replica reports at the end of a generation.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-report")]
public sealed record ExpertReport
{
    [Id(0)] public required ExpertReplica Replica { get; init; }

    /// <summary>The silo that ran the generation.</summary>
    [Id(1)] public required string Silo { get; init; }

    [Id(2)] public required string DeviceName { get; init; }

    [Id(3)] public required GenerationMetrics Metrics { get; init; }

    /// <summary>Energy of this generation in joules: the increment over idle the meter saw, or the model's estimate.</summary>
    [Id(4)] public double EnergyJoules { get; init; }

    /// <summary>Which meter measured the energy.</summary>
    [Id(5)] public MeterKind EnergyMeter { get; init; } = MeterKind.Model;

    /// <summary>Time spent loading the model before this generation, in milliseconds (0 when it was resident).</summary>
    [Id(6)] public double LoadMs { get; init; }
}

/// <summary>A piece of an expert's streamed output; the last one carries the report.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-chunk")]
public sealed record ExpertChunk
{
    [Id(0)] public string Text { get; init; } = "";

    [Id(1)] public ExpertReport? Report { get; init; }

    public bool IsFinal => Report is not null;
}
