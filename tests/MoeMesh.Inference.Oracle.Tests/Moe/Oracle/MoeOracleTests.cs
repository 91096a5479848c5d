using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Oracle;

/// <summary>
/// MoeMesh's monolithic MoE model on ONNX Runtime against llama.cpp on the same F32 GGUF: every
/// position of a 32-token prompt and a greedy 64-token continuation.
/// </summary>
public sealed class MoeOracleTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2moe")]
    [InlineData("qwen3moe")]
    [InlineData("olmoe")]
    public void LogitsAndGreedyOutputMatchLlamaCpp(string architecture)
    {
        var options = new MoeSynthesisOptions
        {
            Architecture = architecture, Layers = 2, Hidden = 64, Heads = 4, KeyValueHeads = architecture == "olmoe" ? 4 : 2, Experts = 8, TopK = 2,
            ExpertFeedForward = 48, VocabularySize = 256, Seed = 7,
        };
        var path = MoeSynthesizer.Write(_folder.File($"{architecture}.gguf"), options).Path;
        var random = new Random(11);
        var prompt = Enumerable.Range(0, 32).Select(_ => random.Next(options.VocabularySize)).ToArray();

        using var model = MoeMonolithicModel.Load(path);
        using var oracle = LlamaCppMoeOracle.Open(path, contextSize: 128);
        var report = MoeOracleComparison.Compare(model, oracle, prompt, continuation: 64);

        Assert.True(report.MaxAbsLogitDiffRatio <= 1e-3, $"max |Δlogit| / max |logit| = {report.MaxAbsLogitDiffRatio:E2}");
        Assert.Equal(1.0, report.Top1Agreement);
        Assert.Equal(report.LlamaCppContinuation, report.MoeMeshContinuation);
        Assert.True(report.Passes);
        Assert.True(report.MoeMeshContinuation.Distinct().Count() > 8, "the continuation should not be a short loop");
        Console.WriteLine($"{architecture}: max |Δlogit| / max |logit| = {report.MaxAbsLogitDiffRatio:E2}, top-1 {report.Top1Agreement:P0}, greedy identical {report.GreedyIdentical}");
    }

    public void Dispose() => _folder.Dispose();
}
