using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Loading;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>Opens MoE GGUFs for ONNX Runtime: backbones per model, expert runners per shard.</summary>
public sealed class OnnxMoeModelLoader(MoeExecutionOptions? options = null) : IMoeModelLoader
{
    private readonly MoeExecutionOptions _options = options ?? MoeExecutionOptions.Default;

    public MoeModelShape ReadShape(string ggufPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(ggufPath);
        return MoeShapeReader.Read(GgufReader.Read(ggufPath));
    }

    public IMoeBackbone LoadBackbone(string ggufPath)
    {
        using var model = MoeGgufModel.Open(ggufPath);
        return OnnxMoeBackbone.Load(model, _options);
    }

    public IMoeExpertRunner LoadExperts(string ggufPath, int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision = MoeWeightPrecision.Float32)
    {
        using var model = MoeGgufModel.Open(ggufPath);
        return OnnxMoeExpertRunner.Load(model, layer, experts, precision, _options);
    }
}
