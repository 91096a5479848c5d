using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;

namespace MoeMesh.Inference.Tests.Moe.Oracle;

/// <summary>llama.cpp loads and runs the synthesized MoE GGUFs of every architecture and weight type.</summary>
public sealed class LlamaCppMoeOracleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moe-oracle-").FullName;

    [Theory]
    [InlineData("llama", GgmlType.F32)]
    [InlineData("qwen2moe", GgmlType.F32)]
    [InlineData("qwen3moe", GgmlType.F32)]
    [InlineData("olmoe", GgmlType.F32)]
    [InlineData("llama", GgmlType.F16)]
    [InlineData("qwen3moe", GgmlType.Q8_0)]
    public void LlamaCppRunsSynthesizedModels(string architecture, GgmlType type)
    {
        var options = new MoeSynthesisOptions { Architecture = architecture, WeightType = type, Hidden = 64, Experts = 4, TopK = 2 };
        var model = MoeSynthesizer.Write(Path.Combine(_folder, $"{architecture}-{type}.gguf"), options);

        using var oracle = LlamaCppMoeOracle.Open(model.Path, contextSize: 128);
        Assert.Equal(options.VocabularySize, oracle.VocabularySize);
        int[] prompt = [1, 5, 9, 200, 31, 7];
        var logits = oracle.EvaluateAll(prompt);
        Assert.Equal(prompt.Length * options.VocabularySize, logits.Length);
        Assert.All(logits, value => Assert.True(float.IsFinite(value)));
        Assert.NotEqual(logits[..options.VocabularySize], logits[options.VocabularySize..(2 * options.VocabularySize)]);

        var first = oracle.Greedy(prompt, 16);
        var second = oracle.Greedy(prompt, 16);
        Assert.Equal(first, second);
        Assert.All(first, token => Assert.InRange(token, 0, options.VocabularySize - 1));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
