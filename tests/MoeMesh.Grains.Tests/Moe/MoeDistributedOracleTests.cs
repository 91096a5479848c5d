using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>
/// A synthesized F32 MoE GGUF run by the silos' own ONNX Runtime loader, its expert shards spread
/// over two silos, against llama.cpp on the same file.
/// </summary>
public sealed class MoeDistributedOracleTests
{
    private const int Continuation = 32;

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2moe")]
    [InlineData("qwen3moe")]
    public async Task Distributed_greedy_output_equals_llama_cpp_on_the_same_gguf(string architecture)
    {
        var options = new MoeSynthesisOptions
        {
            Architecture = architecture, Layers = 2, Hidden = 64, Heads = 4, KeyValueHeads = 2, Experts = 8, TopK = 2,
            ExpertFeedForward = 48, VocabularySize = 256, Seed = 7,
        };
        await using var mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1, loader: null, writeModel: path => MoeSynthesizer.Write(path, options));
        var random = new Random(11);
        var prompt = Enumerable.Range(0, 16).Select(_ => random.Next(options.VocabularySize)).ToArray();

        // The prompt's last position and every generated one: llama.cpp's logits pick the same token as the mesh.
        int[] expected;
        using (var oracle = LlamaCppMoeOracle.Open(mesh.ModelPath, contextSize: 128))
        {
            expected = oracle.Greedy(prompt, Continuation);
        }

        var result = await mesh.Backbone($"oracle-{architecture}").GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = Continuation });

        Assert.IsType<OnnxMoeModelLoader>(mesh.Cluster.GetSiloServiceProvider(mesh.Cluster.Silos[0].SiloAddress).GetRequiredService<IMoeModelLoader>());
        Assert.Equal(expected, result.Tokens);
        Assert.True(result.Deviations.IsExact);
        Assert.True(expected.Distinct().Count() > 4, "the continuation should not be a short loop");
        var shards = await mesh.ShardsAsync(replicas: 1, options.Layers, options.Experts);
        Assert.Equal(2, shards.Select(s => s.Silo).Distinct().Count());

        // One call per (layer, silo) a step needs: both silos served some steps, none was called twice.
        Assert.InRange(result.Hops, result.Steps * options.Layers + 1, result.Steps * options.Layers * 2);
    }
}
