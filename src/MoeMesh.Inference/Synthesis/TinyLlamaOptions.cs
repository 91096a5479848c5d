using MoeMesh.Inference.Gguf;

namespace MoeMesh.Inference.Synthesis;

/// <summary>Shape and content of a synthesized llama-architecture model.</summary>
public sealed record TinyLlamaOptions
{
    /// <summary>The chatml template; llama.cpp recognises it by its <c>&lt;|im_start|&gt;</c> markers.</summary>
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Model name, written to <c>general.name</c>.</summary>
    public string Name { get; init; } = "tiny-llama";

    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden size (<c>llama.embedding_length</c>).</summary>
    public int EmbeddingLength { get; init; } = 64;

    /// <summary>Attention heads; must divide <see cref="EmbeddingLength"/> into heads of even size.</summary>
    public int HeadCount { get; init; } = 4;

    /// <summary>Key/value heads (grouped-query attention); must divide <see cref="HeadCount"/>. Null means equal to it.</summary>
    public int? KeyValueHeadCount { get; init; }

    /// <summary>Feed-forward size; null means 8/3 of the hidden size rounded up to 32.</summary>
    public int? FeedForwardLength { get; init; }

    /// <summary>Context the model declares it was trained for (<c>llama.context_length</c>).</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>Tokens of the built-in byte-fallback vocabulary (ignored with <see cref="VocabularyPath"/>).</summary>
    public int VocabularySize { get; init; } = 512;

    /// <summary>A GGUF carrying a tokenizer (a model, or a vocab-only file such as llama.cpp's <c>ggml-vocab-*.gguf</c>) whose tokenizer is copied instead.</summary>
    public string? VocabularyPath { get; init; }

    /// <summary>Seed of every weight; the same options give the same file, byte for byte.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Weight type of the matrices: <see cref="GgmlType.F32"/> or <see cref="GgmlType.F16"/>. Norms stay F32.</summary>
    public GgmlType WeightType { get; init; } = GgmlType.F32;

    /// <summary>
    /// How strongly the attention and feed-forward layers steer the next token away from a fixed
    /// token-to-token chain. 0 gives a pure chain (context has no effect); around 1 the context
    /// changes the next token now and then; larger values make the output depend more on context
    /// and its logits less clearly separated.
    /// </summary>
    public float ContextInfluence { get; init; } = 1.0f;

    /// <summary>Chat template written to <c>tokenizer.chat_template</c>; null writes none.</summary>
    public string? ChatTemplate { get; init; } = ChatMlTemplate;

    /// <summary>RMS norm epsilon.</summary>
    public float RmsNormEpsilon { get; init; } = 1e-5f;

    /// <summary>RoPE base frequency.</summary>
    public float RopeFrequencyBase { get; init; } = 10000f;

    /// <summary>The key/value head count in effect.</summary>
    public int EffectiveKeyValueHeadCount => KeyValueHeadCount ?? HeadCount;

    /// <summary>The feed-forward size in effect.</summary>
    public int EffectiveFeedForwardLength => FeedForwardLength ?? (EmbeddingLength * 8 / 3 + 31) / 32 * 32;

    /// <summary>Problems with the options, each naming the option; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add("name must not be empty");
        }

        if (Layers is < 1 or > 128)
        {
            problems.Add($"layers must be between 1 and 128, got {Layers}");
        }

        if (EmbeddingLength is < 8 or > 16384)
        {
            problems.Add($"hidden size must be between 8 and 16384, got {EmbeddingLength}");
        }

        if (HeadCount < 1 || EmbeddingLength % Math.Max(1, HeadCount) != 0 || EmbeddingLength / Math.Max(1, HeadCount) % 2 != 0)
        {
            problems.Add($"heads ({HeadCount}) must divide the hidden size ({EmbeddingLength}) into heads of an even size");
        }

        if (EffectiveKeyValueHeadCount < 1 || HeadCount % Math.Max(1, EffectiveKeyValueHeadCount) != 0)
        {
            problems.Add($"key/value heads ({EffectiveKeyValueHeadCount}) must divide the heads ({HeadCount})");
        }

        if (EffectiveFeedForwardLength is < 1 or > 65536)
        {
            problems.Add($"feed-forward size must be between 1 and 65536, got {EffectiveFeedForwardLength}");
        }

        if (ContextLength is < 8 or > 1 << 20)
        {
            problems.Add($"context length must be between 8 and {1 << 20}, got {ContextLength}");
        }

        if (VocabularyPath is null && VocabularySize < ByteFallbackVocabulary.MinimumSize)
        {
            problems.Add($"vocabulary size must be at least {ByteFallbackVocabulary.MinimumSize} (specials, 256 bytes, printable characters), got {VocabularySize}");
        }

        if (VocabularyPath is null && VocabularySize > 65536)
        {
            problems.Add($"vocabulary size must be at most 65536, got {VocabularySize}");
        }

        if (WeightType is not (GgmlType.F32 or GgmlType.F16))
        {
            problems.Add($"weight type must be F32 or F16, got {WeightType}");
        }

        if (!float.IsFinite(ContextInfluence) || ContextInfluence < 0 || ContextInfluence > 100)
        {
            problems.Add($"context influence must be between 0 and 100, got {ContextInfluence}");
        }

        if (!float.IsFinite(RmsNormEpsilon) || RmsNormEpsilon <= 0 || !float.IsFinite(RopeFrequencyBase) || RopeFrequencyBase <= 0)
        {
            problems.Add("the RMS norm epsilon and RoPE base frequency must be positive");
        }

        return problems;
    }
}
