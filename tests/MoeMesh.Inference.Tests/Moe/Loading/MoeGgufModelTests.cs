using FsCheck.Xunit;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Loading;

public sealed class MoeGgufModelTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    [Theory]
    [InlineData("llama", MoeGating.SoftmaxTopKRenormalized, 0)]
    [InlineData("qwen2moe", MoeGating.SoftmaxTopK, 64)]
    [InlineData("qwen3moe", MoeGating.SoftmaxTopKRenormalized, 0)]
    public void ShapeComesFromTheMetadata(string architecture, MoeGating gating, int shared)
    {
        var path = Write(new MoeSynthesisOptions { Architecture = architecture, Layers = 3, Hidden = 64, Heads = 4, Experts = 6, TopK = 2, ExpertFeedForward = 32 });

        using var model = MoeGgufModel.Open(path);

        var shape = model.Shape;
        Assert.Equal(architecture, shape.Architecture);
        Assert.Equal((3, 64, 4, 2, 16), (shape.LayerCount, shape.HiddenSize, shape.HeadCount, shape.KeyValueHeadCount, shape.HeadSize));
        Assert.Equal((6, 2, 32, shared), (shape.ExpertCount, shape.ExpertsPerToken, shape.ExpertFeedForwardSize, shape.SharedExpertFeedForwardSize));
        Assert.Equal(gating, shape.Gating);
        Assert.Equal(256, shape.VocabularySize);
    }

    [Fact]
    public void Qwen3MoeHeadSizeMayDifferFromHiddenOverHeads()
    {
        var path = Write(new MoeSynthesisOptions { Architecture = "qwen3moe", Hidden = 64, Heads = 4, HeadSize = 32 });

        using var model = MoeGgufModel.Open(path);

        Assert.Equal(32, model.Shape.HeadSize);
        Assert.Equal(64 * 128, model.ReadTensor("blk.0.attn_q.weight").Length);
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q8_0)]
    public void AnExpertSliceEqualsItsPartOfTheWholeTensor(GgmlType type)
    {
        var path = Write(new MoeSynthesisOptions { Hidden = 64, Experts = 4, ExpertFeedForward = 32, WeightType = type });
        using var model = MoeGgufModel.Open(path);

        var whole = model.ReadTensor("blk.1.ffn_down_exps.weight");
        var third = model.ReadExpert("blk.1.ffn_down_exps.weight", 2);

        Assert.Equal(whole.AsSpan(2 * 64 * 32, 64 * 32).ToArray(), third);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ReadExpert("blk.1.ffn_down_exps.weight", 4));
    }

    [Fact]
    public void DenseLlamaIsNotAnMoeModel()
    {
        var path = _folder.File("dense.gguf");
        MoeMesh.Inference.Synthesis.TinyLlamaSynthesizer.Write(path, new MoeMesh.Inference.Synthesis.TinyLlamaOptions());

        var error = Assert.Throws<MoeModelFormatException>(() => MoeGgufModel.Open(path));

        Assert.Contains("dense model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileSaysSo() =>
        Assert.Throws<FileNotFoundException>(() => MoeGgufModel.Open(_folder.File("absent.gguf")));

    [Fact]
    public void TheUnmutatedFuzzBaseDecodes() => Assert.True(MoeGgufMutator.Decode(MoeGgufMutator.Valid));

    /// <summary>Any mutation is either still a model or rejected with a format error; nothing else escapes.</summary>
    [Property(MaxTest = 300)]
    public void MalformedFilesAreRejectedCleanly(int kind, int position, long value) =>
        MoeGgufMutator.Decode(MoeGgufMutator.Mutate(kind, position, value));

    /// <summary>
    /// The long fuzz run: MOEMESH_MOE_FUZZ_ITERATIONS mutations (2,000 by default; the documented
    /// figure comes from a run with 100,000).
    /// </summary>
    [Fact]
    public void SeededFuzzRunRejectsEveryMalformedFileCleanly()
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("MOEMESH_MOE_FUZZ_ITERATIONS"), out var n) ? n : 2000;
        var random = new Random(20261203);
        var rejected = 0;
        for (var i = 0; i < iterations; i++)
        {
            rejected += MoeGgufMutator.Decode(MoeGgufMutator.Mutate(random.Next(), random.Next(), random.NextInt64(long.MinValue, long.MaxValue))) ? 0 : 1;
        }

        Assert.True(rejected > iterations / 2, $"only {rejected} of {iterations} mutations were rejected");
        Console.WriteLine($"MoE GGUF fuzz: {iterations} mutated files, {rejected} rejected with a format error, no other exception.");
    }

    public void Dispose() => _folder.Dispose();

    private string Write(MoeSynthesisOptions options) => MoeSynthesizer.Write(_folder.File($"{Guid.NewGuid():N}.gguf"), options).Path;
}
