using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Benchmarks;
using MoeMesh.Inference.Moe.Loading;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench moe</c>: decode speed of a Mixture-of-Experts model in llama.cpp and in MoeMesh
/// (monolithic, ONNX Runtime) on the same GGUF in one run, with the oracle figures.
/// </summary>
public static class BenchMoeCommand
{
    public static Command Create()
    {
        var defaults = new MoeBenchmarkOptions();
        var model = new Option<string?>("--model") { Description = "An MoE GGUF to measure; default: a synthesized quarter-width Qwen3-30B-A3B (see docs/moe.md)." };
        var threads = new Option<int>("--threads") { Description = "CPU threads for llama.cpp and for each ONNX Runtime session.", DefaultValueFactory = _ => defaults.Threads };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens.", DefaultValueFactory = _ => defaults.PromptTokens };
        var tokens = new Option<int>("--tokens") { Description = "Tokens generated per timed run (and the oracle's greedy continuation).", DefaultValueFactory = _ => defaults.DecodeTokens };
        var rounds = new Option<int>("--rounds") { Description = "Timed runs per engine; medians are reported.", DefaultValueFactory = _ => defaults.Rounds };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("moe", "Decode tokens/s of an MoE model in llama.cpp and MoeMesh monolithic, with the logit oracle.")
        {
            model, threads, prompt, tokens, rounds, json,
        };

        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var options = new MoeBenchmarkOptions
            {
                ModelPath = parse.GetValue(model),
                Threads = parse.GetValue(threads),
                PromptTokens = parse.GetValue(prompt),
                DecodeTokens = parse.GetValue(tokens),
                Rounds = parse.GetValue(rounds),
            };
            var problems = options.Validate();
            if (problems.Count > 0)
            {
                stderr.WriteLine($"error: {string.Join("; ", problems)}");
                return ExitCodes.Usage;
            }

            MoeBenchmarkReport report;
            try
            {
                report = MoeDecodeBenchmark.Run(options, new Progress(stderr));
            }
            catch (Exception e) when (e is GgufFormatException or MoeModelFormatException or ArgumentException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or LLama.Exceptions.RuntimeError or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return ExitCodes.Failed;
            }

            if (parse.GetValue(json))
            {
                stdout.WriteLine(CliJson.Serialize(ToJson(report)));
            }
            else
            {
                Write(stdout, report);
            }

            return report.Oracle.Passes ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static object ToJson(MoeBenchmarkReport r) => new
    {
        model = r.Model,
        shape = r.Shape,
        modelParameters = r.ModelParameters,
        monolithicResidentBytes = r.MonolithicResidentBytes,
        threads = r.Threads,
        promptTokens = r.PromptTokens,
        decodeTokens = r.DecodeTokens,
        tokensPerSecond = new { llamaCpp = r.LlamaCpp.TokensPerSecond, monolithic = r.Monolithic.TokensPerSecond },
        millisecondsPerToken = new { llamaCpp = r.LlamaCpp.MillisecondsPerToken, monolithic = r.Monolithic.MillisecondsPerToken },
        rounds = new { llamaCpp = r.LlamaCpp.Rounds, monolithic = r.Monolithic.Rounds },
        bestTokensPerSecond = new { llamaCpp = r.LlamaCpp.BestTokensPerSecond, monolithic = r.Monolithic.BestTokensPerSecond },
        monolithicOverLlamaCpp = r.MonolithicOverLlamaCpp,
        bestMonolithicOverLlamaCpp = r.BestMonolithicOverLlamaCpp,
        maxAbsLogitDiffRatio = r.Oracle.MaxAbsLogitDiffRatio,
        top1Agreement = r.Oracle.Top1Agreement,
        greedyIdentical = r.Oracle.GreedyIdentical,
    };

    private static void Write(TextWriter output, MoeBenchmarkReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = r.Shape;
        output.WriteLine(string.Create(inv, $"model: {r.Model} ({s.Architecture}, {r.ModelParameters:N0} parameters)"));
        output.WriteLine(string.Create(inv,
            $"shape: {s.LayerCount} layers, hidden {s.HiddenSize}, {s.HeadCount}/{s.KeyValueHeadCount} heads of {s.HeadSize}, {s.ExpertCount} experts of {s.ExpertFeedForwardSize}, top-{s.ExpertsPerToken}, vocabulary {s.VocabularySize}"));
        output.WriteLine(string.Create(inv, $"prompt {r.PromptTokens} tokens, {r.DecodeTokens} generated, {r.Threads} threads, medians of {r.LlamaCpp.Rounds.Count} rounds"));
        output.WriteLine();
        output.WriteLine("decode                 tokens/s    ms/token   best tokens/s");
        output.WriteLine(string.Create(inv, $"llama.cpp            {r.LlamaCpp.TokensPerSecond,10:F1}  {r.LlamaCpp.MillisecondsPerToken,10:F2}  {r.LlamaCpp.BestTokensPerSecond,14:F1}"));
        output.WriteLine(string.Create(inv, $"MoeMesh monolithic   {r.Monolithic.TokensPerSecond,10:F1}  {r.Monolithic.MillisecondsPerToken,10:F2}  {r.Monolithic.BestTokensPerSecond,14:F1}"));
        output.WriteLine(string.Create(inv, $"monolithic / llama.cpp: {r.MonolithicOverLlamaCpp:F3} (medians), {r.BestMonolithicOverLlamaCpp:F3} (best rounds)"));
        output.WriteLine();
        output.WriteLine(string.Create(inv,
            $"oracle: max |Δlogit| / max |logit| = {r.Oracle.MaxAbsLogitDiffRatio:E2}, top-1 agreement {r.Oracle.Top1Agreement:P0}, greedy identical: {(r.Oracle.GreedyIdentical ? "yes" : "NO")}"));
    }

    private sealed class Progress(TextWriter error) : IProgress<string>
    {
        public void Report(string value) => error.WriteLine($"[bench moe] {value}");
    }
}
