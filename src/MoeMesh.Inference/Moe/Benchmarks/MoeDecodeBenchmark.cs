using System.Diagnostics;
using MoeMesh.Inference.Moe.Execution;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Inference.Moe.Benchmarks;

/// <summary>Decode speed of one engine: median over rounds.</summary>
/// <param name="TokensPerSecond">Generated tokens per second (prompt excluded).</param>
/// <param name="MillisecondsPerToken">Its inverse.</param>
/// <param name="Rounds">Each round's tokens per second.</param>
public sealed record MoeDecodeSpeed(double TokensPerSecond, double MillisecondsPerToken, IReadOnlyList<double> Rounds)
{
    /// <summary>The fastest round: the least disturbed by other work on a shared machine.</summary>
    public double BestTokensPerSecond => Rounds.Max();
}

/// <summary>The benchmark's figures.</summary>
public sealed record MoeBenchmarkReport(
    string Model,
    MoeModelShape Shape,
    long ModelParameters,
    long MonolithicResidentBytes,
    int Threads,
    int PromptTokens,
    int DecodeTokens,
    MoeDecodeSpeed LlamaCpp,
    MoeDecodeSpeed Monolithic,
    MoeOracleReport Oracle)
{
    /// <summary>MoeMesh monolithic decode speed over llama.cpp's.</summary>
    public double MonolithicOverLlamaCpp => Monolithic.TokensPerSecond / LlamaCpp.TokensPerSecond;

    /// <summary>The same ratio from each engine's fastest round.</summary>
    public double BestMonolithicOverLlamaCpp => Monolithic.BestTokensPerSecond / LlamaCpp.BestTokensPerSecond;
}

/// <summary>
/// Measures, in one run on one model, llama.cpp's decode speed (through LLamaSharp) and MoeMesh's
/// monolithic decode speed on ONNX Runtime, with the oracle figures of the same prompt.
/// </summary>
public static class MoeDecodeBenchmark
{
    /// <summary>Runs the benchmark; progress lines go to <paramref name="progress"/>.</summary>
    public static MoeBenchmarkReport Run(MoeBenchmarkOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid benchmark options: {string.Join("; ", problems)}.", nameof(options));
        }

        var temporary = options.ModelPath is null && options.WorkFolder is null ? Directory.CreateTempSubdirectory("moemesh-bench-moe-").FullName : null;
        try
        {
            var path = options.ModelPath ?? Synthesize(options, temporary ?? options.WorkFolder!, progress);
            return Measure(path, options, progress);
        }
        finally
        {
            if (temporary is not null)
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private static string Synthesize(MoeBenchmarkOptions options, string folder, IProgress<string>? progress)
    {
        Directory.CreateDirectory(folder);
        var s = options.Synthesis;
        progress?.Report($"synthesizing {s.Architecture}: {s.Layers} layers, hidden {s.Hidden}, {s.Experts} experts of {s.ExpertFeedForward}, top-{s.TopK}, {s.WeightType}");
        return MoeSynthesizer.Write(Path.Combine(folder, s.Name + ".gguf"), s).Path;
    }

    private static MoeBenchmarkReport Measure(string path, MoeBenchmarkOptions options, IProgress<string>? progress)
    {
        var context = options.PromptTokens + options.DecodeTokens + 8;
        progress?.Report($"loading {Path.GetFileName(path)} in llama.cpp and on ONNX Runtime ({options.Threads} threads each)");
        using var oracle = LlamaCppMoeOracle.Open(path, contextSize: Math.Max(context, 64), threads: options.Threads);
        using var model = MoeMonolithicModel.Load(path, new MoeExecutionOptions { Threads = options.Threads });
        var random = new SynthesisRandom(20261203);
        var prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => random.NextInt(model.Shape.VocabularySize)).ToArray();

        progress?.Report($"oracle: {options.PromptTokens}-token prompt, every position's logits, {options.DecodeTokens}-token greedy continuation");
        var report = MoeOracleComparison.Compare(model, oracle, prompt, options.DecodeTokens);

        var llama = new List<double>();
        var ours = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            oracle.Greedy(prompt, options.DecodeTokens, out var llamaTime);
            llama.Add((options.DecodeTokens - 1) / llamaTime.TotalSeconds);
            model.Greedy(prompt, options.DecodeTokens, out var ourTime);
            ours.Add((options.DecodeTokens - 1) / ourTime.TotalSeconds);
            progress?.Report($"round {round + 1}/{options.Rounds}: llama.cpp {llama[^1]:F1} tokens/s, MoeMesh monolithic {ours[^1]:F1} tokens/s");
        }

        var file = Gguf.GgufReader.Read(path);
        return new MoeBenchmarkReport(
            path, model.Shape, file.ParameterCount, model.ResidentBytes, options.Threads, options.PromptTokens, options.DecodeTokens,
            Speed(llama), Speed(ours), report);
    }

    private static MoeDecodeSpeed Speed(List<double> rounds)
    {
        var sorted = rounds.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        Debug.Assert(median > 0);
        return new MoeDecodeSpeed(median, 1000 / median, rounds);
    }
}
