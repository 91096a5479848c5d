namespace MoeMesh.Inference.Gguf;

/// <summary>
/// Upper bounds the reader enforces before allocating anything, so a corrupt or hostile file is
/// rejected with an error instead of exhausting memory. Counts are also checked against what the
/// rest of the file could possibly hold.
/// </summary>
public sealed record GgufReadLimits
{
    /// <summary>The defaults: generous for real models (150k-token vocabularies, thousands of tensors).</summary>
    public static GgufReadLimits Default { get; } = new();

    /// <summary>Most metadata entries.</summary>
    public long MaxMetadataCount { get; init; } = 1 << 16;

    /// <summary>Most tensors.</summary>
    public long MaxTensorCount { get; init; } = 1 << 20;

    /// <summary>Longest string, in bytes (chat templates are the longest in practice).</summary>
    public long MaxStringBytes { get; init; } = 16 << 20;

    /// <summary>Most elements in one array.</summary>
    public long MaxArrayLength { get; init; } = 1 << 26;

    /// <summary>Deepest nesting of arrays of arrays.</summary>
    public int MaxArrayDepth { get; init; } = 4;

    /// <summary>Longest tensor name in bytes (ggml's GGML_MAX_NAME less the terminator).</summary>
    public int MaxTensorNameBytes { get; init; } = 63;

    /// <summary>Most dimensions of a tensor (GGML_MAX_DIMS).</summary>
    public int MaxTensorDimensions { get; init; } = 4;
}
