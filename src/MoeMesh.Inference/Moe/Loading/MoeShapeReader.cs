using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Moe.Loading;

/// <summary>Reads a <see cref="MoeModelShape"/> from GGUF metadata, with llama.cpp's keys and defaults.</summary>
public static class MoeShapeReader
{
    /// <summary>Architectures MoeMesh runs.</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["llama", "qwen2moe", "qwen3moe", "olmoe"];

    private const long MaxDimension = 1 << 20;

    /// <summary>The shape of <paramref name="file"/>; throws <see cref="MoeModelFormatException"/> when it is not a supported MoE model.</summary>
    public static MoeModelShape Read(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var a = file.Architecture
            ?? throw new MoeModelFormatException("The file has no general.architecture: it is not a model GGUF.");
        if (!Architectures.Contains(a))
        {
            throw new MoeModelFormatException($"Architecture '{a}' is not a supported Mixture-of-Experts architecture ({string.Join(", ", Architectures)}).");
        }

        var experts = Optional(file, $"{a}.expert_count", 0);
        if (experts == 0)
        {
            throw new MoeModelFormatException($"The '{a}' model has no {a}.expert_count: it is a dense model, not a Mixture of Experts.");
        }

        var hidden = Required(file, $"{a}.embedding_length");
        var heads = Required(file, $"{a}.attention.head_count");
        var keyValueHeads = Optional(file, $"{a}.attention.head_count_kv", heads);
        var headSize = Optional(file, $"{a}.attention.key_length", hidden / heads);
        var topK = Required(file, $"{a}.expert_used_count");
        var feedForward = a == "llama"
            ? Required(file, $"{a}.feed_forward_length")
            : Optional(file, $"{a}.expert_feed_forward_length", 0) is var f && f > 0 ? f : Required(file, $"{a}.feed_forward_length") / topK;
        var shared = a == "qwen2moe" ? Optional(file, $"{a}.expert_shared_feed_forward_length", 0) : 0;
        var vocabulary = file.FindTensor("token_embd.weight") is { Shape.Count: 2 } embeddings && embeddings.Shape[1] is > 0 and <= MaxDimension
            ? (int)embeddings.Shape[1]
            : throw new MoeModelFormatException("The file has no two-dimensional token_embd.weight tensor.");

        Check(keyValueHeads <= heads && heads % keyValueHeads == 0, $"{a}.attention.head_count_kv ({keyValueHeads}) must divide the head count ({heads})");
        Check(headSize % 2 == 0, $"the head size ({headSize}) must be even");
        Check(Optional(file, $"{a}.attention.value_length", headSize) == headSize, "key and value head sizes must be equal");
        Check(Optional(file, $"{a}.rope.dimension_count", headSize) == headSize, "partial rotary embeddings (rope.dimension_count below the head size) are not supported");
        Check(topK <= experts, $"{a}.expert_used_count ({topK}) exceeds {a}.expert_count ({experts})");
        Check(Optional(file, $"{a}.expert_gating_func", 1) == 1, "only softmax expert gating is supported");
        Check(file.TryGetString($"{a}.rope.scaling.type") is null or "none", "RoPE scaling is not supported");

        var renormalize = a is "llama" or "qwen3moe";
        if (file[$"{a}.expert_weights_norm"] is { Type: GgufValueType.Bool } norm)
        {
            renormalize = norm.AsBool();
        }

        var layers = Required(file, $"{a}.block_count");
        Check(layers <= 4096, $"{a}.block_count ({layers}) is above 4096");
        return new MoeModelShape
        {
            Architecture = a,
            LayerCount = layers,
            HiddenSize = hidden,
            VocabularySize = vocabulary,
            HeadCount = heads,
            KeyValueHeadCount = keyValueHeads,
            HeadSize = headSize,
            ExpertCount = experts,
            ExpertsPerToken = topK,
            ExpertFeedForwardSize = feedForward,
            SharedExpertFeedForwardSize = shared,
            Gating = renormalize ? MoeGating.SoftmaxTopKRenormalized : MoeGating.SoftmaxTopK,
            ContextLength = Required(file, $"{a}.context_length"),
            RmsNormEpsilon = Number(file, $"{a}.attention.layer_norm_rms_epsilon", null),
            RopeFrequencyBase = Number(file, $"{a}.rope.freq_base", 10000f),
        };
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new MoeModelFormatException($"Unsupported model: {problem}.");
        }
    }

    private static int Required(GgufFile file, string key) =>
        Optional(file, key, null);

    private static int Optional(GgufFile file, string key, int? fallback)
    {
        if (!file.TryGetValue(key, out _))
        {
            return fallback ?? throw new MoeModelFormatException($"Metadata key '{key}' is missing.");
        }

        long value;
        try
        {
            value = file.TryGetInteger(key) ?? throw new MoeModelFormatException($"Metadata key '{key}' is not an integer.");
        }
        catch (InvalidOperationException e)
        {
            throw new MoeModelFormatException($"Metadata key '{key}': {e.Message}", e);
        }

        if (value is < 1 or > MaxDimension)
        {
            throw new MoeModelFormatException($"Metadata key '{key}' is {value}; it must be 1..{MaxDimension}.");
        }

        return (int)value;
    }

    private static float Number(GgufFile file, string key, float? fallback)
    {
        if (!file.TryGetValue(key, out _))
        {
            return fallback ?? throw new MoeModelFormatException($"Metadata key '{key}' is missing.");
        }

        double value;
        try
        {
            value = file.TryGetNumber(key) ?? throw new MoeModelFormatException($"Metadata key '{key}' is not a number.");
        }
        catch (InvalidOperationException e)
        {
            throw new MoeModelFormatException($"Metadata key '{key}': {e.Message}", e);
        }

        return value is > 0 and < 1e30 ? (float)value : throw new MoeModelFormatException($"Metadata key '{key}' is {value}; it must be positive.");
    }
}
