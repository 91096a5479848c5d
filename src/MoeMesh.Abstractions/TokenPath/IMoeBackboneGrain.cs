namespace MoeMesh.TokenPath;

/// <summary>
/// One sequence on one replica of a Mixture-of-Experts model's backbone (embeddings, attention with
/// the KV cache, norms, the gate, shared experts, output head). Key: "<c>{model}/{sequence}</c>".
/// Each decode step makes one call per (layer, shard) holding a chosen expert, a layer's shards in parallel.
/// </summary>
public interface IMoeBackboneGrain : IGrainWithStringKey
{
    /// <summary>Generates greedily from <see cref="MoeGenerationRequest.PromptTokens"/>.</summary>
    Task<MoeGenerationResult> GenerateAsync(MoeGenerationRequest request, CancellationToken cancellationToken = default);
}

/// <summary>A token-level generation request.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.moe-generation-request")]
public sealed record MoeGenerationRequest
{
    [Id(0)] public required int[] PromptTokens { get; init; }

    [Id(1)] public int MaxTokens { get; init; } = 32;

    /// <summary>Stops when this token is produced (not included); -1 for none.</summary>
    [Id(2)] public int StopToken { get; init; } = -1;

    [Id(3)] public MoeExecutionOptions Execution { get; init; } = new();

    /// <summary>Also return the logits of every prompt position (<see cref="MoeGenerationResult.PromptLogits"/>), as the correctness oracle compares them.</summary>
    [Id(4)] public bool IncludePromptLogits { get; init; }
}

/// <summary>What a generation produced and what it cost on the wire.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.moe-generation-result")]
public sealed record MoeGenerationResult
{
    [Id(0)] public required int[] Tokens { get; init; }

    /// <summary>Backbone steps (the prompt's and one per generated token).</summary>
    [Id(1)] public required int Steps { get; init; }

    /// <summary>Calls to expert shards.</summary>
    [Id(2)] public required long Hops { get; init; }

    /// <summary>Frame bytes sent and received.</summary>
    [Id(3)] public required long FrameBytes { get; init; }

    /// <summary>Hop round trips, microseconds: median and 99th percentile.</summary>
    [Id(4)] public required double HopP50Us { get; init; }

    [Id(5)] public required double HopP99Us { get; init; }

    [Id(6)] public required MoeDeviations Deviations { get; init; }

    /// <summary>Shards that were lost and served again, with how long it took.</summary>
    [Id(7)] public required IReadOnlyList<ShardRecovery> Recoveries { get; init; }

    /// <summary>Routing counts: layer × expert, row-major.</summary>
    [Id(8)] public required long[] RoutingCounts { get; init; }

    [Id(9)] public required int ExpertCount { get; init; }

    /// <summary>The silo that ran the backbone.</summary>
    [Id(10)] public required string BackboneSilo { get; init; }

    [Id(11)] public required TimeSpan Elapsed { get; init; }

    /// <summary>
    /// With <see cref="MoeGenerationRequest.IncludePromptLogits"/>: the logits of every prompt position,
    /// prompt length × vocabulary, row-major (row i predicts the token after prompt token i); otherwise null.
    /// </summary>
    [Id(12)] public float[]? PromptLogits { get; init; }
}

/// <summary>A shard that stopped answering and was served again by a replica or a fresh activation.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.shard-recovery")]
public sealed record ShardRecovery(
    [property: Id(0)] ExpertShardKey Lost,
    [property: Id(1)] ExpertShardKey ServedBy,
    [property: Id(2)] string Error,
    [property: Id(3)] TimeSpan RecoveryTime);
