using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// What one expert shard costs a silo: its routed experts' SwiGLU weights (gate and up H × F, down
/// F × H each) held as F32, as <see cref="ExpertShardGrain"/> loads them. Placement checks a shard
/// against this share of the model rather than against the whole manifest's size, so a model too
/// large for any one box still spreads over several.
/// </summary>
internal static class MoeShardMemory
{
    public static long WeightBytes(MoeModelShape shape, int expertCount)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegative(expertCount);
        return expertCount * 3L * shape.HiddenSize * shape.ExpertFeedForwardSize * sizeof(float);
    }
}
