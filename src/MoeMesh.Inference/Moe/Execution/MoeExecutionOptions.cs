namespace MoeMesh.Inference.Moe.Execution;

/// <summary>How the ONNX Runtime sessions of an MoE model run.</summary>
public sealed record MoeExecutionOptions
{
    /// <summary>Defaults: one thread per session run.</summary>
    public static MoeExecutionOptions Default { get; } = new();

    /// <summary>Intra-operator threads of each session (1 runs on the calling thread only).</summary>
    public int Threads { get; init; } = 1;
}
