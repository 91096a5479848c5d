using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;

namespace MoeMesh.Inference.Tests.Moe.Execution;

public sealed class MoeGateTests
{
    private static readonly float[] Logits = [0f, 2f, 1f, -1f, /* second token */ 3f, 3f, 0f, 1f];

    [Fact]
    public void SoftmaxTopKKeepsTheProbabilities()
    {
        var ids = new int[4];
        var weights = new float[4];

        MoeGate.Route(Logits, 2, 4, 2, MoeGating.SoftmaxTopK, ids, weights);

        var sum = MathF.Exp(0) + MathF.Exp(2) + MathF.Exp(1) + MathF.Exp(-1);
        Assert.Equal([1, 2, 0, 1], ids);
        Assert.Equal(MathF.Exp(2) / sum, weights[0], 1e-6f);
        Assert.Equal(MathF.Exp(1) / sum, weights[1], 1e-6f);
    }

    [Fact]
    public void RenormalizedWeightsSumToOneAndTiesKeepTheLowerExpert()
    {
        var ids = new int[4];
        var weights = new float[4];

        MoeGate.Route(Logits, 2, 4, 2, MoeGating.SoftmaxTopKRenormalized, ids, weights);

        Assert.Equal(1f, weights[0] + weights[1], 1e-6f);
        Assert.Equal(MathF.Exp(2) / (MathF.Exp(2) + MathF.Exp(1)), weights[0], 1e-6f);
        Assert.Equal((0, 1), (ids[2], ids[3]));
        Assert.Equal(0.5f, weights[2], 1e-6f);
    }
}
