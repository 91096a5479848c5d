namespace MoeMesh.Inference.Moe;

/// <summary>
/// One sequence on a Mixture-of-Experts model's backbone: embeddings, attention with this
/// sequence's KV cache, norms, the model's gate, any shared expert, and the output head. The routed
/// experts are not here: a step stops at every MoE layer and hands back a <see cref="MoeLayerRouting"/>,
/// the caller runs the chosen experts wherever they live (in this process or on other silos) and
/// gives their weighted sum back. Not thread-safe: one step at a time.
/// </summary>
public interface IMoeBackboneSession : IDisposable
{
    /// <summary>The model's shape.</summary>
    MoeModelShape Shape { get; }

    /// <summary>Tokens already in this sequence's KV cache.</summary>
    int Position { get; }

    /// <summary>
    /// Starts a step with <paramref name="tokens"/> new tokens (a prompt chunk, or one token while
    /// decoding): runs the backbone up to the first MoE layer's gate.
    /// </summary>
    /// <returns>The first MoE layer's routing.</returns>
    MoeLayerRouting Begin(ReadOnlySpan<int> tokens);

    /// <summary>
    /// Adds the routed experts' weighted output for the current layer (TokenCount × H, the sum over
    /// each token's selected experts of weight × expert(x)) and runs on to the next MoE layer's gate.
    /// </summary>
    /// <returns>The next layer's routing, or null when the step is done and <see cref="Logits"/> holds its result.</returns>
    MoeLayerRouting? Continue(ReadOnlySpan<float> routedExpertOutput);

    /// <summary>Logits of every token of the finished step: TokenCount × vocabulary, row-major; the buffer may be reused by the next step.</summary>
    ReadOnlyMemory<float> Logits { get; }

    /// <summary>Forgets the sequence's KV cache from <paramref name="position"/> on, so a step can be run again.</summary>
    void Truncate(int position);
}
