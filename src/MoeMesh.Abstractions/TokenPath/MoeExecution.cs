using MoeMesh.Activations;

namespace MoeMesh.TokenPath;

/// <summary>How faithfully a generation follows the model.</summary>
public enum MoeExecutionMode
{
    /// <summary>The model's gate decides; nothing is dropped or approximated (the default).</summary>
    Exact,

    /// <summary>Deviations are allowed to save time: see <see cref="MoeExecutionOptions"/>; each one is counted.</summary>
    Budgeted,
}

/// <summary>How frames travel between the backbone and the expert shards.</summary>
public enum MoeFrameTransport
{
    /// <summary>A long-lived, authenticated TCP frame stream per shard (measured faster; see docs/token-path.md).</summary>
    TcpStream,

    /// <summary>Frames as byte arrays in Orleans grain calls.</summary>
    GrainCall,
}

/// <summary>Per-request settings of the token path.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.moe-execution-options")]
public sealed record MoeExecutionOptions
{
    [Id(0)] public MoeExecutionMode Mode { get; init; } = MoeExecutionMode.Exact;

    /// <summary>Budgeted: selected experts whose gate weight is below this are skipped (adaptive k). 0 skips none.</summary>
    [Id(1)] public float GateThreshold { get; init; }

    /// <summary>Budgeted: a shard slower than this is replaced by a low-precision local copy of its experts.</summary>
    [Id(2)] public TimeSpan SlowShardTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Budgeted: keep low-precision copies of recently used experts locally and prefetch the previous token's choice.</summary>
    [Id(3)] public bool LocalExpertCache { get; init; } = true;

    /// <summary>Encoding of the frames on the wire.</summary>
    [Id(4)] public ActivationDType FrameDType { get; init; } = ActivationDType.F32;

    /// <summary>How long a generation waits for a lost shard to come back before it fails.</summary>
    [Id(5)] public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How frames travel to the shards.</summary>
    [Id(6)] public MoeFrameTransport Transport { get; init; } = MoeFrameTransport.TcpStream;
}

/// <summary>Every way a generation departed from exact execution, counted.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.moe-deviations")]
public sealed record MoeDeviations
{
    /// <summary>Expert slots skipped because their gate weight was under the threshold.</summary>
    [Id(0)] public long SkippedExperts { get; init; }

    /// <summary>Expert slots served by a low-precision local copy because the shard was slow or lost.</summary>
    [Id(1)] public long LowPrecisionExperts { get; init; }

    /// <summary>Local-copy lookups that found the expert resident.</summary>
    [Id(2)] public long CacheHits { get; init; }

    /// <summary>Local-copy lookups that had to load the expert.</summary>
    [Id(3)] public long CacheMisses { get; init; }

    /// <summary>Experts loaded ahead of need from the previous token's routing.</summary>
    [Id(4)] public long Prefetched { get; init; }

    /// <summary>Whether the run was exact (no skipped or approximated expert).</summary>
    public bool IsExact => SkippedExperts == 0 && LowPrecisionExperts == 0;
}
