using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Moe.Oracle;

/// <summary>Files quantized by llama.cpp itself load and dequantise to within each format's error of the F32 original.</summary>
public sealed class LlamaCppQuantizedLoadingTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    [Theory]
    [InlineData(GgmlType.BF16, 0.005)]
    [InlineData(GgmlType.F16, 0.001)]
    [InlineData(GgmlType.Q8_0, 0.01)]
    [InlineData(GgmlType.Q6_K, 0.03)]
    [InlineData(GgmlType.Q4_K, 0.12)]
    public void LlamaCppQuantizedTensorsDequantiseCloseToTheOriginal(GgmlType type, double relativeError)
    {
        var original = MoeSynthesizer.Write(_folder.File("f32.gguf"), new MoeSynthesisOptions
        {
            Architecture = "qwen3moe", Layers = 1, Hidden = 256, Heads = 4, Experts = 2, TopK = 1, ExpertFeedForward = 256, VocabularySize = 64,
        }).Path;
        var quantized = _folder.File($"{type}.gguf");
        LlamaCppQuantizer.Quantize(original, quantized, type);

        using var reference = MoeGgufModel.Open(original);
        using var model = MoeGgufModel.Open(quantized);

        Assert.Contains(model.File.Tensors, t => t.Type == type);
        foreach (var tensor in model.File.Tensors.Where(t => t.Type == type))
        {
            var expected = reference.ReadTensor(tensor.Name);
            var actual = model.ReadTensor(tensor.Name);
            double error = 0, norm = 0;
            for (var i = 0; i < expected.Length; i++)
            {
                error += Math.Pow(actual[i] - expected[i], 2);
                norm += Math.Pow(expected[i], 2);
            }

            Assert.True(Math.Sqrt(error / norm) < relativeError, $"{tensor.Name} ({type}): relative RMS error {Math.Sqrt(error / norm):F4}");
        }
    }

    public void Dispose() => _folder.Dispose();
}
