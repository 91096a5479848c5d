namespace MoeMesh.Inference.Benchmarks;

/// <summary>Medians of one side's runs.</summary>
/// <param name="TimeToFirstTokenMs">From the start of the request (prompt tokenization included) to the first sampled token.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens per second until the first token.</param>
/// <param name="DecodeTokensPerSecond">Tokens per second after the first, per sequence.</param>
/// <param name="TotalTokensPerSecond">All generated tokens of all sequences over the whole run (prefill included).</param>
public sealed record LlamaBenchmarkFigures(double TimeToFirstTokenMs, double PrefillTokensPerSecond, double DecodeTokensPerSecond, double TotalTokensPerSecond);

/// <summary>The engine and the C harness on the same workload.</summary>
/// <param name="Sequences">Sequences decoded together.</param>
/// <param name="Engine">Medians of the managed engine's runs.</param>
/// <param name="Harness">Medians of the C program's runs (calling libllama directly).</param>
/// <param name="DecodeRatio">
/// Engine decode rate over the harness's (1 = as fast): the median, over rounds, of the ratio
/// within each round, where the two ran back to back and saw the same machine.
/// </param>
/// <param name="TimeToFirstTokenRatio">Harness time to first token over the engine's (above 1 = engine faster), per round, median.</param>
/// <param name="TotalThroughputRatio">Engine total throughput over the harness's, per round, median.</param>
public sealed record LlamaBenchmarkComparison(
    int Sequences,
    LlamaBenchmarkFigures Engine,
    LlamaBenchmarkFigures Harness,
    double DecodeRatio,
    double TimeToFirstTokenRatio,
    double TotalThroughputRatio);

/// <summary>Everything <c>moemesh bench llama</c> reports.</summary>
public sealed record LlamaBenchmarkReport
{
    public required string Model { get; init; }

    public required long ModelParameters { get; init; }

    public required int PromptTokens { get; init; }

    public required int Threads { get; init; }

    public required int DecodeTokens { get; init; }

    public required int Rounds { get; init; }

    /// <summary>One sequence at a time: the engine against the harness.</summary>
    public required LlamaBenchmarkComparison Single { get; init; }

    /// <summary>Several sequences decoded together, for each requested count.</summary>
    public required IReadOnlyList<LlamaBenchmarkComparison> Batched { get; init; }

    /// <summary>True when the engine and the harness generated the same text for the same prompt.</summary>
    public required bool OutputsMatch { get; init; }

    public required string LlamaVersion { get; init; }

    /// <summary>The libllama LLamaSharp loaded, which the harness links too.</summary>
    public required string LibraryPath { get; init; }

    public required string Machine { get; init; }
}
