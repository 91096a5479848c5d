namespace MoeMesh.Inference.Benchmarks;

/// <summary>Medians of one side's runs.</summary>
/// <param name="TimeToFirstTokenMs">From the start of the request (prompt tokenization included) to the first sampled token.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens per second until the first token.</param>
/// <param name="DecodeTokensPerSecond">Tokens per second after the first, per sequence.</param>
/// <param name="TotalTokensPerSecond">All generated tokens of all sequences over the whole run (prefill included).</param>
public sealed record LlamaBenchmarkFigures(double TimeToFirstTokenMs, double PrefillTokensPerSecond, double DecodeTokensPerSecond, double TotalTokensPerSecond);

/// <summary>The engine and the C harness on the same workload.</summary>
/// <param name="Sequences">Sequences decoded together.</param>
/// <param name="Engine">The managed engine.</param>
/// <param name="Harness">The C program calling libllama directly.</param>
public sealed record LlamaBenchmarkComparison(int Sequences, LlamaBenchmarkFigures Engine, LlamaBenchmarkFigures Harness)
{
    /// <summary>Engine decode rate over the harness's (1 = as fast).</summary>
    public double DecodeRatio => Harness.DecodeTokensPerSecond > 0 ? Engine.DecodeTokensPerSecond / Harness.DecodeTokensPerSecond : 0;

    /// <summary>Harness time to first token over the engine's (1 = as fast; above 1 = engine faster).</summary>
    public double TimeToFirstTokenRatio => Engine.TimeToFirstTokenMs > 0 ? Harness.TimeToFirstTokenMs / Engine.TimeToFirstTokenMs : 0;

    /// <summary>Engine total throughput over the harness's.</summary>
    public double TotalThroughputRatio => Harness.TotalTokensPerSecond > 0 ? Engine.TotalTokensPerSecond / Harness.TotalTokensPerSecond : 0;
}

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

    public required string LibraryDirectory { get; init; }

    public required string Machine { get; init; }
}
