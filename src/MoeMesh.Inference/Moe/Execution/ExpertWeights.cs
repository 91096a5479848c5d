namespace MoeMesh.Inference.Moe.Execution;

/// <summary>One routed expert's SwiGLU weights, row-major: gate and up [F, H], down [H, F].</summary>
/// <param name="Expert">The expert's index in its layer.</param>
/// <param name="Gate">Gate projection [F, H].</param>
/// <param name="Up">Up projection [F, H].</param>
/// <param name="Down">Down projection [H, F].</param>
/// <param name="FeedForward">Inner size F.</param>
public sealed record ExpertWeights(int Expert, float[] Gate, float[] Up, float[] Down, int FeedForward);
