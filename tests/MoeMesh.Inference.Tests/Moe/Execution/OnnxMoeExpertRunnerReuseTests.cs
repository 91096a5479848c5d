using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Execution;

/// <summary>An expert runner reuses its pinned buffers, tensors and IO bindings across steps: results must not depend on what ran before.</summary>
public sealed class OnnxMoeExpertRunnerReuseTests : IDisposable
{
    private const int Hidden = 32;
    private readonly TemporaryDirectory _folder = new();
    private readonly MoeGgufModel _model;

    public OnnxMoeExpertRunnerReuseTests()
    {
        var path = MoeSynthesizer.Write(_folder.File("model.gguf"), new MoeSynthesisOptions
        {
            Architecture = "qwen3moe", Layers = 1, Hidden = Hidden, Heads = 4, KeyValueHeads = 2, Experts = 4, TopK = 2,
            ExpertFeedForward = 32, VocabularySize = 64,
        }).Path;
        _model = MoeGgufModel.Open(path);
    }

    [Fact]
    public void StepsOfChangingSizeGiveBitIdenticalResultsToFreshRunners()
    {
        using var reused = OnnxMoeExpertRunner.Load(_model, 0, [0, 1, 2, 3], MoeWeightPrecision.Float32);

        // Decode-sized steps, one past the bound row counts (the buffers grow), then decode-sized again.
        int[] tokenCounts = [1, 3, 1, OrtBoundRows.MaxBoundRows + 9, 1, 3, 2];
        for (var step = 0; step < tokenCounts.Length; step++)
        {
            var (hidden, ids, weights) = Step(tokenCounts[step], seed: step);
            var again = new float[hidden.Length];
            var fresh = new float[hidden.Length];

            reused.Run(hidden, tokenCounts[step], ids, weights, 2, again);
            using (var once = OnnxMoeExpertRunner.Load(_model, 0, [0, 1, 2, 3], MoeWeightPrecision.Float32))
            {
                once.Run(hidden, tokenCounts[step], ids, weights, 2, fresh);
            }

            Assert.Contains(fresh, v => v != 0);
            Assert.Equal(fresh, again);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ExpertsRunSideBySideGiveBitIdenticalResultsToOneThread(int threads)
    {
        using var single = OnnxMoeExpertRunner.Load(_model, 0, [0, 1, 2, 3], MoeWeightPrecision.Float32);
        using var parallel = OnnxMoeExpertRunner.Load(_model, 0, [0, 1, 2, 3], MoeWeightPrecision.Float32, new MoeExecutionOptions { Threads = threads });
        using var part = OnnxMoeExpertRunner.Load(_model, 0, [3, 1], MoeWeightPrecision.Float32, new MoeExecutionOptions { Threads = threads });
        using var partSingle = OnnxMoeExpertRunner.Load(_model, 0, [1, 3], MoeWeightPrecision.Float32);
        int[] tokenCounts = [1, 5, 1, OrtBoundRows.MaxBoundRows + 3, 2];
        for (var step = 0; step < tokenCounts.Length; step++)
        {
            var (hidden, ids, weights) = Step(tokenCounts[step], seed: 20 + step);
            var one = new float[hidden.Length];
            var many = new float[hidden.Length];
            var partOne = new float[hidden.Length];
            var partMany = new float[hidden.Length];

            single.Run(hidden, tokenCounts[step], ids, weights, 2, one);
            parallel.Run(hidden, tokenCounts[step], ids, weights, 2, many);
            partSingle.Run(hidden, tokenCounts[step], ids, weights, 2, partOne);
            part.Run(hidden, tokenCounts[step], ids, weights, 2, partMany);

            Assert.Contains(one, v => v != 0);
            Assert.Equal(one, many);
            Assert.Equal(partOne, partMany);
        }
    }

    [Fact]
    public void TheSameStepTwiceGivesTheSameResultAndOtherInputsDoNotLeak()
    {
        using var runner = OnnxMoeExpertRunner.Load(_model, 0, [1, 3], MoeWeightPrecision.Float32);
        var (first, ids, weights) = Step(2, seed: 7);
        var (second, _, _) = Step(2, seed: 8);
        var a = new float[first.Length];
        var b = new float[first.Length];
        var c = new float[first.Length];

        runner.Run(first, 2, ids, weights, 2, a);
        runner.Run(second, 2, ids, weights, 2, b);
        runner.Run(first, 2, ids, weights, 2, c);

        Assert.Equal(a, c);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void WrongShapesAreStillRejectedAfterReuseAndTheRunnerKeepsWorking()
    {
        using var runner = OnnxMoeExpertRunner.Load(_model, 0, [0, 1, 2, 3], MoeWeightPrecision.Float32);
        var (hidden, ids, weights) = Step(1, seed: 3);
        var before = new float[Hidden];
        runner.Run(hidden, 1, ids, weights, 2, before);

        Assert.Throws<ArgumentException>(() => runner.Run(hidden.AsSpan(0, Hidden - 1), 1, ids, weights, 2, new float[Hidden]));
        Assert.Throws<ArgumentException>(() => runner.Run(hidden, 1, ids, weights, 2, new float[Hidden * 2]));
        Assert.Throws<ArgumentException>(() => runner.Run(hidden, 2, ids, weights, 2, new float[Hidden * 2]));
        Assert.Throws<ArgumentException>(() => runner.Run(hidden, 1, ids.AsSpan(0, 1), weights, 2, new float[Hidden]));

        var after = new float[Hidden];
        runner.Run(hidden, 1, ids, weights, 2, after);
        Assert.Equal(before, after);
    }

    private static (float[] Hidden, int[] Ids, float[] Weights) Step(int tokens, int seed)
    {
        var random = new Random(seed);
        var hidden = Enumerable.Range(0, tokens * Hidden).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var ids = new int[tokens * 2];
        var weights = new float[tokens * 2];
        for (var t = 0; t < tokens; t++)
        {
            ids[2 * t] = random.Next(4);
            ids[(2 * t) + 1] = (ids[2 * t] + 1 + random.Next(3)) % 4;
            weights[2 * t] = 0.6f;
            weights[(2 * t) + 1] = 0.4f;
        }

        return (hidden, ids, weights);
    }

    public void Dispose()
    {
        _model.Dispose();
        _folder.Dispose();
    }
}
