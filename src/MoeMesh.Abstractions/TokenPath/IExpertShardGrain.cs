namespace MoeMesh.TokenPath;

/// <summary>
/// Some routed experts of one MoE layer, loaded on one silo. Activations arrive and leave as
/// MessagePack activation frames in byte arrays (see docs/activation-frames.md): the Orleans codec
/// copies a byte array in one piece, where a float array costs a header per element.
/// </summary>
public interface IExpertShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs an expert-input frame through the shard's experts and returns the expert-output frame:
    /// per token, the sum of gate weight × expert(x) over the slots naming this shard's experts.
    /// A malformed frame is rejected with <see cref="Activations.ActivationFrameFormatException"/>.
    /// </summary>
    Task<ExpertShardReply> RunAsync(byte[] frame);

    /// <summary>
    /// Loads the shard if needed and returns its silo's TCP frame stream, where frames for this
    /// shard's model and layer are answered without a grain call.
    /// </summary>
    Task<ExpertShardEndpoint> OpenDataPlaneAsync();

    /// <summary>Loads the shard if it is not loaded yet and reports where it lives.</summary>
    Task<ExpertShardStatus> WarmUpAsync();
}

/// <summary>A shard's expert-output frame and the silo that computed it (so a caller sees a shard move).</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-shard-reply")]
public sealed record ExpertShardReply([property: Id(0)] byte[] Frame, [property: Id(1)] string Silo);

/// <summary>Where to stream frames for a shard, and the silo behind that endpoint.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-shard-endpoint")]
public sealed record ExpertShardEndpoint([property: Id(0)] DataPlaneEndpoint Endpoint, [property: Id(1)] string Silo);

/// <summary>Where a shard replica lives and what it holds.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.expert-shard-status")]
public sealed record ExpertShardStatus
{
    [Id(0)] public required ExpertShardKey Key { get; init; }

    /// <summary>The silo holding the shard (its parsable address).</summary>
    [Id(1)] public required string Silo { get; init; }

    /// <summary>Bytes the shard's weights hold.</summary>
    [Id(2)] public required long ResidentBytes { get; init; }

    /// <summary>Frames served since activation.</summary>
    [Id(3)] public required long FramesServed { get; init; }

    /// <summary>Tokens served since activation.</summary>
    [Id(4)] public required long TokensServed { get; init; }
}
