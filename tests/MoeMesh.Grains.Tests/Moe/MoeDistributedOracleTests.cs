using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.TokenPath;
using Xunit.Abstractions;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>
/// A synthesized F32 MoE GGUF run by the silos' own ONNX Runtime loader, its expert shards spread
/// over two silos, against llama.cpp on the same file: every position of a 32-token prompt and a
/// greedy 64-token continuation.
/// </summary>
public sealed class MoeDistributedOracleTests(ITestOutputHelper output)
{
    private const int PromptLength = 32;
    private const int Continuation = 64;

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2moe")]
    [InlineData("qwen3moe")]
    [InlineData("olmoe")]
    public async Task Distributed_logits_at_every_prompt_position_and_greedy_output_equal_llama_cpp_on_the_same_gguf(string architecture)
    {
        var options = new MoeSynthesisOptions
        {
            Architecture = architecture, Layers = 2, Hidden = 64, Heads = 4, KeyValueHeads = architecture == "olmoe" ? 4 : 2, Experts = 8, TopK = 2,
            ExpertFeedForward = 48, VocabularySize = 256, Seed = 7,
        };
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1, loader: null, writeModel: path => MoeSynthesizer.Write(path, options));
        var random = new Random(11);
        var prompt = Enumerable.Range(0, PromptLength).Select(_ => random.Next(options.VocabularySize)).ToArray();

        var result = await mesh.Backbone($"oracle-{architecture}").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = prompt, MaxTokens = Continuation, IncludePromptLogits = true,
        });

        MoeOracleReport report;
        using (var oracle = LlamaCppMoeOracle.Open(mesh.ModelPath, contextSize: 128))
        {
            report = MoeOracleComparison.Compare(result.PromptLogits, result.Tokens, oracle, prompt);
        }

        output.WriteLine($"{architecture} over 2 silos: max |Δlogit| / max |logit| = {report.MaxAbsLogitDiffRatio:E2}, top-1 {report.Top1Agreement:P0}, greedy identical {report.GreedyIdentical} ({result.Hops} hops)");
        Assert.IsType<OnnxMoeModelLoader>(mesh.Cluster.GetSiloServiceProvider(mesh.Cluster.Silos[0].SiloAddress).GetRequiredService<IMoeModelLoader>());
        Assert.True(report.MaxAbsLogitDiffRatio <= 1e-3, $"max |Δlogit| / max |logit| = {report.MaxAbsLogitDiffRatio:E2}");
        Assert.Equal(1.0, report.Top1Agreement);
        Assert.Equal(report.LlamaCppContinuation, result.Tokens);
        Assert.True(report.Passes);
        Assert.True(result.Deviations.IsExact);
        Assert.True(result.Tokens.Distinct().Count() > 8, "the continuation should not be a short loop");
        var shards = await mesh.ShardsAsync(replicas: 1, options.Layers, options.Experts);
        Assert.Equal(2, shards.Select(s => s.Silo).Distinct().Count());

        // One call per (layer, silo) a step needs: both silos served some steps, none was called twice.
        Assert.InRange(result.Hops, result.Steps * options.Layers + 1, result.Steps * options.Layers * 2);
    }

    [Fact]
    public async Task Prompt_logits_are_left_out_unless_asked_for()
    {
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1);
        int[] prompt = [3, 14, 15, 9, 26];

        var plain = await mesh.Backbone("plain").GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = 3 });
        var asked = await mesh.Backbone("asked").GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = 3, IncludePromptLogits = true });

        Assert.Null(plain.PromptLogits);
        var vocabulary = TestDoubles.ReferenceMoeWeights.TinyShape.VocabularySize;
        Assert.Equal(prompt.Length * vocabulary, asked.PromptLogits!.Length);

        // The last prompt position's argmax is the first generated token.
        Assert.Equal(asked.Tokens[0], LlamaCppMoeOracle.ArgMax(asked.PromptLogits.AsSpan((prompt.Length - 1) * vocabulary, vocabulary)));
        Assert.Equal(plain.Tokens, asked.Tokens);
    }
}
