using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Execution;

public sealed class OnnxMoeExecutionTests : IDisposable
{
    private static readonly int[] Prompt = [3, 14, 15, 92, 65, 35, 89, 79];
    private readonly TemporaryDirectory _folder = new();
    private readonly string _path;

    public OnnxMoeExecutionTests()
    {
        _path = MoeSynthesizer.Write(_folder.File("model.gguf"), new MoeSynthesisOptions
        {
            Architecture = "qwen2moe", Layers = 2, Hidden = 32, Heads = 4, KeyValueHeads = 2, Experts = 4, TopK = 2,
            ExpertFeedForward = 32, VocabularySize = 128,
        }).Path;
    }

    [Fact]
    public void ShardsOfExpertsAddUpToTheWholeLayer()
    {
        using var model = MoeGgufModel.Open(_path);
        using var whole = OnnxMoeExpertRunner.Load(model, 1, [0, 1, 2, 3], MoeWeightPrecision.Float32);
        using var low = OnnxMoeExpertRunner.Load(model, 1, [0, 2], MoeWeightPrecision.Float32);
        using var high = OnnxMoeExpertRunner.Load(model, 1, [3, 1], MoeWeightPrecision.Float32);
        var hidden = Enumerable.Range(0, 3 * 32).Select(i => MathF.Sin(i)).ToArray();
        int[] ids = [0, 3, 1, 2, 3, -1];
        float[] weights = [0.6f, 0.4f, 0.7f, 0.3f, 1f, 0f];
        var all = new float[96];
        var a = new float[96];
        var b = new float[96];

        whole.Run(hidden, 3, ids, weights, 2, all);
        low.Run(hidden, 3, ids, weights, 2, a);
        high.Run(hidden, 3, ids, weights, 2, b);

        Assert.Contains(all, v => v != 0);
        for (var i = 0; i < all.Length; i++)
        {
            Assert.Equal(all[i], a[i] + b[i], 1e-5f);
        }

        Assert.Equal(2L * 3 * 32 * 32 * 4, low.ResidentBytes);
    }

    [Theory]
    [InlineData(MoeWeightPrecision.Float16, 2e-3f, 2L)]
    [InlineData(MoeWeightPrecision.Q8, 3e-2f, 1L)]
    public void LowPrecisionExpertsStayCloseToFloat32(MoeWeightPrecision precision, float tolerance, long roughBytesPerWeight)
    {
        using var model = MoeGgufModel.Open(_path);
        using var full = OnnxMoeExpertRunner.Load(model, 0, [1], MoeWeightPrecision.Float32);
        using var low = OnnxMoeExpertRunner.Load(model, 0, [1], precision);
        var hidden = Enumerable.Range(0, 32).Select(i => MathF.Cos(i)).ToArray();
        var a = new float[32];
        var b = new float[32];

        full.Run(hidden, 1, [1], [1f], 1, a);
        low.Run(hidden, 1, [1], [1f], 1, b);

        var scale = a.Max(MathF.Abs);
        Assert.All(a.Zip(b), p => Assert.InRange(MathF.Abs(p.First - p.Second), 0f, tolerance * scale + 1e-6f));
        Assert.Contains(a.Zip(b), p => p.First != p.Second);
        Assert.Equal(precision, low.Precision);
        Assert.InRange(low.ResidentBytes, roughBytesPerWeight * 3 * 32 * 32, (roughBytesPerWeight + 1) * 3 * 32 * 32);
    }

    [Fact]
    public void APromptInChunksGivesTheSameLogitsAsInOneStep()
    {
        using var model = MoeMonolithicModel.Load(_path);
        var whole = model.EvaluateAll(Prompt);
        using var session = model.CreateSession(16);

        model.Step(session, Prompt.AsSpan(0, 5));
        var tail = model.Step(session, Prompt.AsSpan(5)).ToArray();

        Assert.Equal(8, session.Position);
        var vocabulary = model.Shape.VocabularySize;
        for (var i = 0; i < tail.Length; i++)
        {
            Assert.Equal(whole[5 * vocabulary + i], tail[i], 1e-4f);
        }
    }

    [Fact]
    public void TruncatingLetsAStepRunAgain()
    {
        using var model = MoeMonolithicModel.Load(_path);
        using var session = model.CreateSession(16);
        model.Step(session, Prompt.AsSpan(0, 6));
        var first = model.Step(session, [7]).ToArray();

        session.Truncate(6);
        var again = model.Step(session, [7]).ToArray();

        Assert.Equal(first, again);
        Assert.Equal(7, session.Position);
    }

    [Fact]
    public void TheStepProtocolRejectsMisuse()
    {
        using var model = MoeMonolithicModel.Load(_path);
        using var session = model.CreateSession(4);

        Assert.Throws<InvalidOperationException>(() => session.Continue(new float[32]));
        Assert.Throws<ArgumentException>(() => session.Begin([1, 2, 3, 4, 5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Begin([128]));
        var routing = session.Begin([1, 2]);
        Assert.Equal((0, 2, 2), (routing.Layer, routing.TokenCount, routing.ExpertsPerToken));
        Assert.Throws<InvalidOperationException>(() => session.Begin([1]));
        Assert.Throws<ArgumentException>(() => session.Continue(new float[32]));
    }

    [Fact]
    public void ExpertRunnersRejectBadExpertLists()
    {
        using var model = MoeGgufModel.Open(_path);

        Assert.Throws<ArgumentException>(() => OnnxMoeExpertRunner.Load(model, 0, [4], MoeWeightPrecision.Float32));
        Assert.Throws<ArgumentException>(() => OnnxMoeExpertRunner.Load(model, 0, [1, 1], MoeWeightPrecision.Float32));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxMoeExpertRunner.Load(model, 2, [1], MoeWeightPrecision.Float32));
    }

    [Fact]
    public void TheLoaderReadsTheShapeAndOpensBackbonesAndShards()
    {
        var loader = new OnnxMoeModelLoader();

        var shape = loader.ReadShape(_path);
        using var backbone = loader.LoadBackbone(_path);
        using var shard = loader.LoadExperts(_path, 1, [2, 3]);

        Assert.Equal("qwen2moe", shape.Architecture);
        Assert.Equal(64, shape.SharedExpertFeedForwardSize);
        Assert.True(backbone.ResidentBytes > 0);
        Assert.Equal([2, 3], shard.Experts);
    }

    public void Dispose() => _folder.Dispose();
}
