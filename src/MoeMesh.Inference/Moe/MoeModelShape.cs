namespace MoeMesh.Inference.Moe;

/// <summary>How a Mixture-of-Experts model's gate turns router logits into expert weights.</summary>
public enum MoeGating
{
    /// <summary>Softmax over all experts, top-k, selected weights renormalised to sum to 1 (Mixtral, qwen3moe).</summary>
    SoftmaxTopKRenormalized,

    /// <summary>Softmax over all experts, top-k, weights used as they are (qwen2moe, olmoe).</summary>
    SoftmaxTopK,
}

/// <summary>
/// The shape and the gating rule of a Mixture-of-Experts model, read from its GGUF metadata. Every
/// part of the token path (backbone, expert shards, activation frames, placement) sizes itself
/// from this one record.
/// </summary>
public sealed record MoeModelShape
{
    /// <summary>The GGUF architecture name: "llama" (Mixtral-style), "qwen2moe", "qwen3moe", "olmoe".</summary>
    public required string Architecture { get; init; }

    /// <summary>Transformer blocks.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Hidden size H: the length of one token's activation vector.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Vocabulary size: the length of one token's logits.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Attention heads for queries.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Attention heads for keys and values (grouped-query attention when fewer than <see cref="HeadCount"/>).</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Size of one attention head.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Routed experts per MoE layer (E).</summary>
    public required int ExpertCount { get; init; }

    /// <summary>Experts the gate selects per token (k).</summary>
    public required int ExpertsPerToken { get; init; }

    /// <summary>Inner size of one routed expert's feed-forward network (F).</summary>
    public required int ExpertFeedForwardSize { get; init; }

    /// <summary>Inner size of the shared expert (qwen2moe), or 0 when the model has none.</summary>
    public int SharedExpertFeedForwardSize { get; init; }

    /// <summary>How router logits become expert weights.</summary>
    public required MoeGating Gating { get; init; }

    /// <summary>Longest sequence the model was trained for.</summary>
    public required int ContextLength { get; init; }

    /// <summary>RMSNorm epsilon.</summary>
    public required float RmsNormEpsilon { get; init; }

    /// <summary>RoPE base frequency.</summary>
    public required float RopeFrequencyBase { get; init; }
}
