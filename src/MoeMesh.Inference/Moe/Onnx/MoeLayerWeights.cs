namespace MoeMesh.Inference.Moe.Onnx;

/// <summary>
/// One block's backbone weights, dequantised, as row-major [out, in] matrices (a GGUF matrix of ggml
/// shape {in, out}). Query and key rows are already in the rotation order the graphs use.
/// </summary>
public sealed class MoeLayerWeights
{
    public required float[] AttentionNorm { get; init; }

    public required float[] Query { get; init; }

    public required float[] Key { get; init; }

    public required float[] Value { get; init; }

    public float[]? QueryBias { get; init; }

    public float[]? KeyBias { get; init; }

    public float[]? ValueBias { get; init; }

    /// <summary>qwen3moe: RMSNorm weight applied per head to queries.</summary>
    public float[]? QueryNorm { get; init; }

    /// <summary>qwen3moe: RMSNorm weight applied per head to keys.</summary>
    public float[]? KeyNorm { get; init; }

    public required float[] AttentionOutput { get; init; }

    public required float[] FeedForwardNorm { get; init; }

    /// <summary>Router: [E, H].</summary>
    public required float[] Router { get; init; }

    /// <summary>qwen2moe shared expert: gate [Fs, H], up [Fs, H], down [H, Fs], scalar gate [H].</summary>
    public float[]? SharedGate { get; init; }

    public float[]? SharedUp { get; init; }

    public float[]? SharedDown { get; init; }

    public float[]? SharedGateInput { get; init; }

    /// <summary>Bytes the weights take as floats.</summary>
    public long Bytes => 4L * new[]
    {
        AttentionNorm, Query, Key, Value, QueryBias, KeyBias, ValueBias, QueryNorm, KeyNorm, AttentionOutput,
        FeedForwardNorm, Router, SharedGate, SharedUp, SharedDown, SharedGateInput,
    }.Sum(a => a?.LongLength ?? 0);
}
