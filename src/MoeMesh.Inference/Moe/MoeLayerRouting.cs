namespace MoeMesh.Inference.Moe;

/// <summary>
/// What the backbone hands to the routed experts of one MoE layer for one step: the normalised
/// feed-forward input of every token in the step and the experts the model's gate chose for each,
/// with their weights. Row-major: token t's hidden vector is <c>Hidden[t*H .. (t+1)*H)</c>, its
/// choices are <c>ExpertIds[t*K .. (t+1)*K)</c> with <c>Weights</c> alongside.
/// </summary>
public sealed class MoeLayerRouting
{
    /// <summary>The MoE layer (block index) these activations belong to.</summary>
    public required int Layer { get; init; }

    /// <summary>Tokens in the step.</summary>
    public required int TokenCount { get; init; }

    /// <summary>Hidden size H.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Expert slots per token (the model's k).</summary>
    public required int ExpertsPerToken { get; init; }

    /// <summary>Position of the first token in the sequence.</summary>
    public required int FirstPosition { get; init; }

    /// <summary>The experts' input (after the layer's feed-forward norm): TokenCount × H.</summary>
    public required float[] Hidden { get; init; }

    /// <summary>Selected experts: TokenCount × K, best first.</summary>
    public required int[] ExpertIds { get; init; }

    /// <summary>Gate weights of the selected experts, already normalised as the architecture requires: TokenCount × K.</summary>
    public required float[] Weights { get; init; }
}
