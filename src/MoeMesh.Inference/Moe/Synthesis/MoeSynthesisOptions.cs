using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Moe.Synthesis;

/// <summary>The shape and seed of a synthesized Mixture-of-Experts GGUF (see <see cref="MoeSynthesizer"/>).</summary>
public sealed record MoeSynthesisOptions
{
    /// <summary>Architectures the synthesizer writes.</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["llama", "qwen2moe", "qwen3moe", "olmoe"];

    /// <summary>GGUF architecture: "llama" (Mixtral-style), "qwen2moe", "qwen3moe" or "olmoe".</summary>
    public string Architecture { get; init; } = "qwen3moe";

    /// <summary>Model name written to <c>general.name</c>.</summary>
    public string Name { get; init; } = "tiny-moe";

    /// <summary>Transformer blocks, every one an MoE layer.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden size H.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Key/value heads; default: half the query heads (grouped-query attention) when that divides, all of them for olmoe.</summary>
    public int? KeyValueHeads { get; init; }

    /// <summary>Head size; default H / heads (qwen3moe may differ and then writes <c>attention.key_length</c>).</summary>
    public int? HeadSize { get; init; }

    /// <summary>Routed experts per layer (E).</summary>
    public int Experts { get; init; } = 8;

    /// <summary>Experts selected per token (k).</summary>
    public int TopK { get; init; } = 2;

    /// <summary>Inner size of one routed expert (F).</summary>
    public int ExpertFeedForward { get; init; } = 32;

    /// <summary>Inner size of the shared expert (qwen2moe only); default 2 × F.</summary>
    public int? SharedFeedForward { get; init; }

    /// <summary>Vocabulary size (token ids are fed directly: the file has no tokenizer).</summary>
    public int VocabularySize { get; init; } = 256;

    /// <summary>Context length written to the metadata.</summary>
    public int ContextLength { get; init; } = 512;

    /// <summary>Type of the matrices: F32, F16 or Q8_0 (norms and the router stay F32).</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F32;

    /// <summary>Seed of the weights: the same options always give the same file.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>RMSNorm epsilon.</summary>
    public float RmsNormEpsilon { get; init; } = 1e-6f;

    /// <summary>RoPE base frequency.</summary>
    public float RopeFrequencyBase { get; init; } = 10000f;

    /// <summary>Key/value heads in effect.</summary>
    public int EffectiveKeyValueHeads => KeyValueHeads ?? (Heads % 2 == 0 && Architecture != "olmoe" ? Heads / 2 : Heads);

    /// <summary>Head size in effect.</summary>
    public int EffectiveHeadSize => HeadSize ?? (Heads > 0 ? Hidden / Heads : 0);

    /// <summary>Shared expert size in effect (0 for architectures without one).</summary>
    public int EffectiveSharedFeedForward => Architecture == "qwen2moe" ? SharedFeedForward ?? 2 * ExpertFeedForward : 0;

    /// <summary>Problems with these options; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Architectures.Contains(Architecture))
        {
            problems.Add($"architecture '{Architecture}' is not one of {string.Join(", ", Architectures)}");
        }

        Check(problems, Layers is >= 1 and <= 256, "layers must be 1..256");
        Check(problems, Hidden is >= 8 and <= 65536, "hidden size must be 8..65536");
        Check(problems, Heads >= 1 && Hidden % Heads == 0 || HeadSize is not null && Heads >= 1, "heads must divide the hidden size");
        Check(problems, EffectiveKeyValueHeads >= 1 && Heads % EffectiveKeyValueHeads == 0, "key/value heads must divide the heads");
        Check(problems, EffectiveHeadSize >= 2 && EffectiveHeadSize % 2 == 0, "head size must be even (RoPE rotates pairs)");
        Check(problems, HeadSize is null || HeadSize == Hidden / Heads || Architecture == "qwen3moe", "a head size other than hidden / heads needs qwen3moe");
        Check(problems, Architecture != "olmoe" || EffectiveKeyValueHeads == Heads, "olmoe has as many key/value heads as query heads");
        Check(problems, Experts is >= 1 and <= 1024, "experts must be 1..1024");
        Check(problems, TopK >= 1 && TopK <= Experts, "top-k must be 1..experts");
        Check(problems, ExpertFeedForward >= 1, "expert feed-forward size must be positive");
        Check(problems, VocabularySize is >= 2 and <= 1 << 20, "vocabulary size must be 2..1048576");
        Check(problems, ContextLength >= 16, "context length must be at least 16");
        Check(problems, WeightType is GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0, "weight type must be f32, f16 or q8_0");
        if (WeightType == GgmlType.Q8_0)
        {
            Check(problems, Hidden % 32 == 0 && ExpertFeedForward % 32 == 0 && EffectiveSharedFeedForward % 32 == 0 && Heads * EffectiveHeadSize % 32 == 0,
                "q8_0 needs the hidden, head and feed-forward sizes to be multiples of 32");
        }

        return problems;
    }

    private static void Check(List<string> problems, bool condition, string problem)
    {
        if (!condition)
        {
            problems.Add(problem);
        }
    }
}
