using System.Diagnostics;
using System.Runtime.InteropServices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Llama;
using MoeMesh.Inference.Llama.Runtime;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Inference.Benchmarks;

/// <summary>
/// Measures the llama.cpp engine against a minimal C program calling the same libllama on the same
/// synthesized model with the same threads and context settings, in one process run: decode rate
/// and time to first token for one sequence (engine and harness alternate each round; medians are
/// reported), and total throughput with several sequences decoded together.
/// </summary>
public static class LlamaBenchmark
{
    private const int ContextPerSequence = 512;
    private const int BatchSize = 512;

    private static readonly string[] Topics =
    [
        "how the router picks experts for a question about geometry",
        "why a box that fails in the middle of a request does not stop the answer",
        "what the energy budget of a request means for the choice of experts",
        "how tokens stream back to the caller with their timing",
        "which model should answer a question about the history of a city",
        "how the mesh measures memory and power on every device",
        "what happens when two experts disagree about an answer",
        "how a command line program asks the mesh a question",
    ];

    public static async Task<LlamaBenchmarkReport> RunAsync(LlamaBenchmarkOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid benchmark options: {string.Join("; ", problems)}.", nameof(options));
        }

        var ownsDirectory = options.WorkDirectory is null;
        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"moemesh-bench-llama-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            return await RunInAsync(options, work, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (ownsDirectory)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: the model file may still be mapped for a moment.
                }
            }
        }
    }

    private static async Task<LlamaBenchmarkReport> RunInAsync(LlamaBenchmarkOptions options, string work, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Report($"synthesizing a llama model: {options.Layers} layers, hidden {options.Hidden}, seed {options.Seed}");
        var model = TinyLlamaSynthesizer.Write(Path.Combine(work, "bench.gguf"), new TinyLlamaOptions
        {
            Name = "bench-llama",
            Layers = options.Layers,
            EmbeddingLength = options.Hidden,
            HeadCount = options.Hidden / 64,
            Seed = options.Seed,
        });

        var runtime = LlamaRuntime.EnsureInitialized();
        progress?.Report($"building the C harness with gcc against the libllama LLamaSharp loaded: {runtime.LibraryPath} (llama.cpp {runtime.Version})");
        var harness = await LlamaDecodeHarness.BuildAsync(work, runtime, cancellationToken).ConfigureAwait(false);

        var maxSequences = options.BatchSequences.Max();
        // The harness computes every prompt in full, so the engine does too (no prefix reuse).
        var single = new LlamaEngineProvider(new LlamaEngineOptions { Threads = options.Threads, BatchThreads = options.Threads, SequencesPerContext = 1, BatchSize = BatchSize, ReusePromptPrefix = false });
        var batched = new LlamaEngineProvider(new LlamaEngineOptions { Threads = options.Threads, BatchThreads = options.Threads, SequencesPerContext = maxSequences, BatchSize = BatchSize, ReusePromptPrefix = false });
        var manifest = new ExpertManifest { Id = "bench-llama", Engine = ExpertEngines.LlamaCpp, ModelPath = model.Path, ContextSize = ContextPerSequence, Quantization = "F32" };

        await using var engine = await single.LoadAsync(manifest, cancellationToken: cancellationToken).ConfigureAwait(false);

        // The same prompt text goes to both sides; each round changes it, so no cache of any kind
        // carries over from one round to the next.
        string Prompt(int round, int sequence) =>
            engine.FormatPrompt(GenerationRequest.FromPrompt($"Round {round}, request {sequence}: please explain {Topics[(((round + sequence) % Topics.Length) + Topics.Length) % Topics.Length]}, step by step, for a new user of the mesh."));
        GenerationRequest Request(string prompt) => new() { RawPrompt = prompt, MaxTokens = options.DecodeTokens, Sampling = SamplingOptions.Greedy };

        // Warm up long enough for the JIT to finish optimising the decoding loop (tiered
        // compilation promotes hot methods after a short delay), so rounds measure steady state.
        progress?.Report("warming up");
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; i < 3 || warmUp.Elapsed < TimeSpan.FromSeconds(1.5); i++)
        {
            await GenerateAsync(engine, Request(Prompt(-1 - i, 0)), cancellationToken).ConfigureAwait(false);
        }
        var promptTokens = engine.Tokenize(Prompt(0, 0)).Count;

        var (singleComparison, outputsMatch) = await CompareSingleAsync(engine, harness, model.Path, options, work, Prompt, Request, progress, cancellationToken).ConfigureAwait(false);

        List<LlamaBenchmarkComparison> batchedComparisons;
        await using (var multi = await batched.LoadAsync(manifest, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            batchedComparisons = await CompareBatchedAsync(multi, harness, model.Path, options, work, Prompt, Request, progress, cancellationToken).ConfigureAwait(false);
        }

        return new LlamaBenchmarkReport
        {
            Model = $"llama, {options.Layers} layers, hidden {options.Hidden}, {options.Hidden / 64} heads, vocabulary {model.VocabularySize}, F32",
            ModelParameters = model.ParameterCount,
            PromptTokens = promptTokens,
            Threads = options.Threads,
            DecodeTokens = options.DecodeTokens,
            Rounds = options.Rounds,
            Single = singleComparison,
            Batched = batchedComparisons,
            OutputsMatch = outputsMatch,
            LlamaVersion = runtime.Version,
            LibraryPath = runtime.LibraryPath,
            Machine = DescribeMachine(),
        };
    }

    /// <summary>One sequence at a time, engine against harness, alternating who goes first; also whether their greedy texts agree.</summary>
    private static async Task<(LlamaBenchmarkComparison Comparison, bool OutputsMatch)> CompareSingleAsync(
        LlamaEngine engine,
        LlamaDecodeHarness harness,
        string modelPath,
        LlamaBenchmarkOptions options,
        string work,
        Func<int, int, string> prompt,
        Func<string, GenerationRequest> request,
        IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var engineRuns = new List<LlamaBenchmarkFigures>();
        var harnessRuns = new List<LlamaBenchmarkFigures>();
        var outputsMatch = true;
        for (var round = 0; round < options.Rounds; round++)
        {
            progress?.Report($"single sequence, round {round + 1} of {options.Rounds}");
            var text = prompt(round, 0);
            string? engineText = null;
            LlamaHarnessRun? harnessRun = null;
            for (var turn = 0; turn < 2; turn++)
            {
                // Alternate who goes first, so slow drifts of the machine affect both alike.
                if ((turn == 0) == (round % 2 == 0))
                {
                    var (generated, metrics) = await GenerateAsync(engine, request(text), cancellationToken).ConfigureAwait(false);
                    engineText = generated;
                    engineRuns.Add(new LlamaBenchmarkFigures(
                        metrics.TimeToFirstTokenMs, metrics.PrefillTokensPerSecond, metrics.DecodeTokensPerSecond, metrics.GeneratedTokens / (metrics.TotalMs / 1000)));
                }
                else
                {
                    harnessRun = await harness.RunAsync(modelPath, options.Threads, options.DecodeTokens, ContextPerSequence, 1, BatchSize, [text], work, cancellationToken).ConfigureAwait(false);
                    harnessRuns.Add(Figures(harnessRun));
                }
            }

            outputsMatch &= engineText == harnessRun!.FirstSequenceText;
        }

        return (Compare(1, engineRuns, harnessRuns), outputsMatch);
    }

    /// <summary>Several sequences decoded together, engine against harness, for each batch size asked for.</summary>
    private static async Task<List<LlamaBenchmarkComparison>> CompareBatchedAsync(
        LlamaEngine multi,
        LlamaDecodeHarness harness,
        string modelPath,
        LlamaBenchmarkOptions options,
        string work,
        Func<int, int, string> prompt,
        Func<string, GenerationRequest> request,
        IProgress<string>? progress,
        CancellationToken cancellationToken)
    {
        var maxSequences = options.BatchSequences.Max();
        var batchedComparisons = new List<LlamaBenchmarkComparison>();
        var batchRounds = Math.Min(options.Rounds, 5);
        foreach (var sequences in options.BatchSequences)
        {
            // One unmeasured run per batch size: llama.cpp sizes its compute graph for it.
            await RunBatchAsync(multi, Enumerable.Range(0, sequences).Select(s => prompt(-50 - s, s)).ToList(), request, cancellationToken).ConfigureAwait(false);
            var engineBatch = new List<LlamaBenchmarkFigures>();
            var harnessBatch = new List<LlamaBenchmarkFigures>();
            for (var round = 0; round < batchRounds; round++)
            {
                progress?.Report($"{sequences} sequences together, round {round + 1} of {batchRounds}");
                var prompts = Enumerable.Range(0, sequences).Select(s => prompt(100 + (round * 64) + s, s)).ToList();
                for (var turn = 0; turn < 2; turn++)
                {
                    if ((turn == 0) == (round % 2 == 0))
                    {
                        engineBatch.Add(await RunBatchAsync(multi, prompts, request, cancellationToken).ConfigureAwait(false));
                    }
                    else
                    {
                        var harnessRun = await harness.RunAsync(modelPath, options.Threads, options.DecodeTokens, ContextPerSequence, maxSequences, BatchSize, prompts, work, cancellationToken).ConfigureAwait(false);
                        harnessBatch.Add(Figures(harnessRun));
                    }
                }
            }

            batchedComparisons.Add(Compare(sequences, engineBatch, harnessBatch));
        }

        return batchedComparisons;
    }

    /// <summary>All <paramref name="prompts"/> at once; total throughput over the wall time of the whole batch.</summary>
    private static async Task<LlamaBenchmarkFigures> RunBatchAsync(LlamaEngine engine, IReadOnlyList<string> prompts, Func<string, GenerationRequest> request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(prompts.Select(p => GenerateAsync(engine, request(p), cancellationToken))).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new LlamaBenchmarkFigures(
            Median(results.Select(r => r.Metrics.TimeToFirstTokenMs)),
            Median(results.Select(r => r.Metrics.PrefillTokensPerSecond)),
            Median(results.Select(r => r.Metrics.DecodeTokensPerSecond)),
            results.Sum(r => r.Metrics.GeneratedTokens) / seconds);
    }

    private static async Task<(string Text, GenerationMetrics Metrics)> GenerateAsync(LlamaEngine engine, GenerationRequest request, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        GenerationMetrics? metrics = null;
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            text.Append(chunk.Text);
            metrics = chunk.Metrics ?? metrics;
        }

        return (text.ToString(), metrics ?? throw new InvalidOperationException("The engine ended a stream without metrics."));
    }

    /// <summary>Medians of each side, and medians of the per-round ratios (runs i of both sides were back to back).</summary>
    private static LlamaBenchmarkComparison Compare(int sequences, IReadOnlyList<LlamaBenchmarkFigures> engine, IReadOnlyList<LlamaBenchmarkFigures> harness)
    {
        var pairs = engine.Zip(harness).ToList();
        return new LlamaBenchmarkComparison(
            sequences,
            Median(engine),
            Median(harness),
            Median(pairs.Select(p => p.First.DecodeTokensPerSecond / p.Second.DecodeTokensPerSecond)),
            Median(pairs.Select(p => p.Second.TimeToFirstTokenMs / p.First.TimeToFirstTokenMs)),
            Median(pairs.Select(p => p.First.TotalTokensPerSecond / p.Second.TotalTokensPerSecond)));
    }

    private static LlamaBenchmarkFigures Figures(LlamaHarnessRun run) =>
        new(run.TimeToFirstTokenMs, run.PrefillTokensPerSecond, run.DecodeTokensPerSecond, run.TotalTokensPerSecond);

    private static LlamaBenchmarkFigures Median(IReadOnlyList<LlamaBenchmarkFigures> runs) => new(
        Median(runs.Select(r => r.TimeToFirstTokenMs)),
        Median(runs.Select(r => r.PrefillTokensPerSecond)),
        Median(runs.Select(r => r.DecodeTokensPerSecond)),
        Median(runs.Select(r => r.TotalTokensPerSecond)));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string DescribeMachine()
    {
        var cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            }
        }
        catch (IOException)
        {
            // Keep the generic description.
        }

        return $"{cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
