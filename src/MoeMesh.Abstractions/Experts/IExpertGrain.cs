using MoeMesh.Generation;
using Orleans.Concurrency;

namespace MoeMesh.Experts;

/// <summary>The state of one expert replica.</summary>
public enum ReplicaState
{
    Loading = 0,
    Ready = 1,
    Failed = 2,
    Unloaded = 3,
}

/// <summary>A replica's state as it reports it.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.replica-status")]
public sealed record ReplicaStatus
{
    [Id(0)] public required ExpertReplica Replica { get; init; }

    [Id(1)] public required string Silo { get; init; }

    [Id(2)] public ReplicaState State { get; init; }

    /// <summary>Memory the loaded model holds, in bytes.</summary>
    [Id(3)] public long ResidentBytes { get; init; }

    /// <summary>Why loading failed.</summary>
    [Id(4)] public string? Error { get; init; }

    /// <summary>Generations running or queued now.</summary>
    [Id(5)] public int ActiveRequests { get; init; }

    /// <summary>Generations served since activation.</summary>
    [Id(6)] public long ServedRequests { get; init; }

    [Id(7)] public DateTimeOffset LastUsed { get; init; }

    [Id(8)] public double LoadMs { get; init; }

    /// <summary>When the replica reported this state; reports that arrive out of order are ignored by it.</summary>
    [Id(9)] public DateTimeOffset ReportedAt { get; init; }

    /// <summary>What the replica measured of its own engine (probe at load, then every run); null until measured.</summary>
    [Id(10)] public EngineCalibration? Calibration { get; init; }
}

/// <summary>
/// One replica of one expert on one silo: an activation is a loaded model. Keyed by
/// <see cref="ExpertReplica.GrainKey"/>; placed by device fit.
/// </summary>
public interface IExpertGrain : IGrainWithStringKey
{
    /// <summary>Streams the generated text; the last chunk carries the report. Cancelling stops generation on the expert.</summary>
    IAsyncEnumerable<ExpertChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels the run with <see cref="GenerationRequest.RunId"/> <paramref name="runId"/>, in whatever
    /// state it is (waiting for the model, prefill, decode); a run that has not arrived yet is refused
    /// when it does. Returns true when the run was running here.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> CancelAsync(string runId);

    /// <summary>Loads the model if it is not loaded, and reports the replica's state.</summary>
    Task<ReplicaStatus> WarmUpAsync();

    /// <summary>The replica's state without loading anything.</summary>
    Task<ReplicaStatus> GetStatusAsync();
}
