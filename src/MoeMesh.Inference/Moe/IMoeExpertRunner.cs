namespace MoeMesh.Inference.Moe;

/// <summary>Numeric precision an expert's weights are held in once loaded.</summary>
public enum MoeWeightPrecision
{
    /// <summary>32-bit floats: exact against the file's F32 weights.</summary>
    Float32,

    /// <summary>16-bit floats: half the memory; the mixed-precision fallback copy.</summary>
    Float16,

    /// <summary>8-bit blocks (Q8_0 layout): a quarter of the memory; the low-precision fallback copy.</summary>
    Q8,
}

/// <summary>
/// Some of one MoE layer's routed experts (SwiGLU feed-forward networks:
/// <c>down(silu(gate·x) ⊙ up·x)</c>), loaded and ready to run. An expert shard grain holds one.
/// </summary>
public interface IMoeExpertRunner : IDisposable
{
    /// <summary>The MoE layer.</summary>
    int Layer { get; }

    /// <summary>The expert indices this runner holds.</summary>
    IReadOnlyList<int> Experts { get; }

    /// <summary>The precision the weights are held in.</summary>
    MoeWeightPrecision Precision { get; }

    /// <summary>Memory the weights and buffers hold, in bytes.</summary>
    long ResidentBytes { get; }

    /// <summary>
    /// Runs the held experts on <paramref name="tokenCount"/> tokens and writes, per token, the sum
    /// of weight × expert(x) over the slots that name a held expert (slots naming other experts, or
    /// -1, are skipped). <paramref name="hidden"/> and <paramref name="output"/> are TokenCount × H;
    /// <paramref name="expertIds"/> and <paramref name="weights"/> are TokenCount × <paramref name="slotsPerToken"/>.
    /// </summary>
    void Run(
        ReadOnlySpan<float> hidden,
        int tokenCount,
        ReadOnlySpan<int> expertIds,
        ReadOnlySpan<float> weights,
        int slotsPerToken,
        Span<float> output);
}

/// <summary>Opens Mixture-of-Experts models from GGUF: backbones per sequence and expert runners per shard.</summary>
public interface IMoeModelLoader
{
    /// <summary>Reads the model's shape without loading weights; throws a clear error for a file that is not a supported MoE GGUF.</summary>
    MoeModelShape ReadShape(string ggufPath);

    /// <summary>Loads the backbone weights once; sessions created from it share them.</summary>
    IMoeBackbone LoadBackbone(string ggufPath);

    /// <summary>Loads only <paramref name="experts"/> of <paramref name="layer"/> from the file, in <paramref name="precision"/>.</summary>
    IMoeExpertRunner LoadExperts(string ggufPath, int layer, IReadOnlyList<int> experts, MoeWeightPrecision precision = MoeWeightPrecision.Float32);
}

/// <summary>A loaded backbone: shared weights, one session per sequence.</summary>
public interface IMoeBackbone : IDisposable
{
    /// <summary>The model's shape.</summary>
    MoeModelShape Shape { get; }

    /// <summary>Memory the backbone's weights hold, in bytes.</summary>
    long ResidentBytes { get; }

    /// <summary>Starts a new sequence with an empty KV cache of up to <paramref name="contextSize"/> tokens.</summary>
    IMoeBackboneSession CreateSession(int contextSize);
}
