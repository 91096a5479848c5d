using MoeMesh.Activations;

namespace MoeMesh.TokenPath;

/// <summary>
/// The activation data plane's end on one silo (key: the silo's parsable address; the grain always
/// lives on that silo): answers frames as a grain call or over its TCP frame stream, and measures
/// hops from its silo to another.
/// </summary>
public interface IActivationHopGrain : IGrainWithStringKey
{
    /// <summary>Decodes an input frame and answers with an output frame of the same shape (the work every hop does besides the experts).</summary>
    Task<byte[]> EchoAsync(byte[] frame);

    /// <summary>Starts this silo's TCP frame stream if needed and returns where to connect and the token that admits a connection.</summary>
    Task<DataPlaneEndpoint> OpenDataPlaneAsync();

    /// <summary>The expert shards loaded on this silo.</summary>
    Task<IReadOnlyList<LoadedShard>> GetLoadedShardsAsync();

    /// <summary>Bytes this silo's process has allocated on the managed heap so far (all threads).</summary>
    Task<long> GetAllocatedBytesAsync();

    /// <summary>Measures round trips of one-token frames from this silo to <paramref name="targetSilo"/>, as grain calls and over TCP.</summary>
    Task<HopMeasurement> MeasureAsync(string targetSilo, int hiddenSize, ActivationDType dtype, int iterations);
}

/// <summary>An expert shard loaded on a silo.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.loaded-shard")]
public sealed record LoadedShard([property: Id(0)] ExpertShardKey Key, [property: Id(1)] long ResidentBytes);

/// <summary>Where a silo's TCP frame stream listens, and the token a connection must present first.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.data-plane-endpoint")]
public sealed record DataPlaneEndpoint([property: Id(0)] string Host, [property: Id(1)] int Port, [property: Id(2)] byte[] Token);

/// <summary>Round trips of the same frames over both transports, measured in one run.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.hop-measurement")]
public sealed record HopMeasurement
{
    [Id(0)] public required string FromSilo { get; init; }

    [Id(1)] public required string ToSilo { get; init; }

    [Id(2)] public required ActivationDType DType { get; init; }

    [Id(3)] public required int HiddenSize { get; init; }

    [Id(4)] public required int Iterations { get; init; }

    /// <summary>Bytes of one request frame (one token) and of its reply.</summary>
    [Id(5)] public required int FrameBytes { get; init; }

    [Id(6)] public required int ReplyBytes { get; init; }

    [Id(7)] public required double GrainCallP50Us { get; init; }

    [Id(8)] public required double GrainCallP99Us { get; init; }

    [Id(9)] public required double TcpP50Us { get; init; }

    [Id(10)] public required double TcpP99Us { get; init; }

    /// <summary>Managed bytes allocated per TCP exchange on the measuring silo (whole process, so background work is included).</summary>
    [Id(11)] public long TcpClientAllocatedBytesPerHop { get; init; }

    /// <summary>Managed bytes allocated per TCP exchange on the answering silo (whole process).</summary>
    [Id(12)] public long TcpServerAllocatedBytesPerHop { get; init; }
}
