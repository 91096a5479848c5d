using MoeMesh.Inference.Moe.Synthesis;

namespace MoeMesh.Inference.Moe.Benchmarks;

/// <summary>What <see cref="MoeDecodeBenchmark"/> measures.</summary>
public sealed record MoeBenchmarkOptions
{
    /// <summary>
    /// The synthesized model when no file is given: a quarter-width Qwen3-30B-A3B (H 512, 8 layers,
    /// 8 query and 2 KV heads of 64, 32 experts of 384 with top-4 routing, vocabulary 8192), F32.
    /// </summary>
    public static MoeSynthesisOptions RealisticShape { get; } = new()
    {
        Architecture = "qwen3moe", Name = "bench-qwen3moe", Layers = 8, Hidden = 512, Heads = 8, KeyValueHeads = 2,
        Experts = 32, TopK = 4, ExpertFeedForward = 384, VocabularySize = 8192, ContextLength = 1024, Seed = 3,
    };

    /// <summary>An MoE GGUF to measure; null synthesizes <see cref="Synthesis"/>.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The model synthesized when <see cref="ModelPath"/> is null.</summary>
    public MoeSynthesisOptions Synthesis { get; init; } = RealisticShape;

    /// <summary>Folder for the synthesized model; null uses a temporary folder removed afterwards.</summary>
    public string? WorkFolder { get; init; }

    /// <summary>CPU threads for llama.cpp and for MoeMesh (the backbone's sessions, and experts run side by side).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Prompt tokens (also the oracle's prompt length).</summary>
    public int PromptTokens { get; init; } = 32;

    /// <summary>Tokens generated per timed run (also the oracle's greedy continuation).</summary>
    public int DecodeTokens { get; init; } = 64;

    /// <summary>Timed runs of each engine, alternating; the median is reported.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Problems with these options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Threads is < 1 or > 256)
        {
            problems.Add("threads must be 1..256");
        }

        if (PromptTokens is < 1 or > 512)
        {
            problems.Add("prompt tokens must be 1..512");
        }

        if (DecodeTokens is < 2 or > 512)
        {
            problems.Add("decode tokens must be 2..512");
        }

        if (Rounds is < 1 or > 100)
        {
            problems.Add("rounds must be 1..100");
        }

        if (ModelPath is not null && !File.Exists(ModelPath))
        {
            problems.Add($"model file '{ModelPath}' does not exist");
        }

        return problems;
    }
}
