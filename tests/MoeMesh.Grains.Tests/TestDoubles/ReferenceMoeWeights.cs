using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// Small random weights of a reference MoE, drawn deterministically from the file name, so every
/// silo of a test cluster builds the same model without reading the file.
/// </summary>
internal sealed class ReferenceMoeWeights
{
    public ReferenceMoeWeights(MoeModelShape shape, string path)
    {
        Shape = shape;
        var seed = 17;
        foreach (var c in Path.GetFileName(path))
        {
            seed = (seed * 31) + c;
        }

        var random = new Random(seed);
        var (h, f, e, v) = (shape.HiddenSize, shape.ExpertFeedForwardSize, shape.ExpertCount, shape.VocabularySize);
        Embedding = Draw(random, v * h, 1f);
        Output = Draw(random, v * h, 0.5f);
        Layers = [.. Enumerable.Range(0, shape.LayerCount).Select(_ => new Layer(
            Draw(random, h * h, 0.3f),
            Draw(random, e * h, 1f),
            [.. Enumerable.Range(0, e).Select(_ => new Expert(Draw(random, f * h, 0.4f), Draw(random, f * h, 0.4f), Draw(random, h * f, 0.4f)))]))];
    }

    public MoeModelShape Shape { get; }

    public float[] Embedding { get; }

    public float[] Output { get; }

    public Layer[] Layers { get; }

    public static MoeModelShape TinyShape { get; } = new()
    {
        Architecture = "qwen3moe", LayerCount = 3, HiddenSize = 16, VocabularySize = 48, HeadCount = 1, KeyValueHeadCount = 1,
        HeadSize = 16, ExpertCount = 8, ExpertsPerToken = 2, ExpertFeedForwardSize = 12, Gating = MoeGating.SoftmaxTopKRenormalized,
        ContextLength = 512, RmsNormEpsilon = 1e-5f, RopeFrequencyBase = 10000,
    };

    private static float[] Draw(Random random, int count, float scale)
        => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale)];

    /// <summary>Attention stand-in (mixes the causal mean of past normalised states), the router, and the experts.</summary>
    internal sealed record Layer(float[] Mix, float[] Router, Expert[] Experts);

    /// <summary>SwiGLU weights: gate and up are F × H, down is H × F.</summary>
    internal sealed record Expert(float[] Gate, float[] Up, float[] Down);
}
