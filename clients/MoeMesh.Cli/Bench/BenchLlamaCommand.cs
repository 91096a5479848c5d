using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Benchmarks;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench llama</c>: the llama.cpp engine against a minimal C program on the same
/// libllama, synthesized model and thread count, in one run; figures as ratios.
/// </summary>
public static class BenchLlamaCommand
{
    public static Command Create()
    {
        var defaults = new LlamaBenchmarkOptions();
        var threads = new Option<int>("--threads") { Description = "CPU threads for both the engine and the C harness.", DefaultValueFactory = _ => defaults.Threads };
        var tokens = new Option<int>("--tokens") { Description = "Tokens generated per sequence.", DefaultValueFactory = _ => defaults.DecodeTokens };
        var layers = new Option<int>("--layers") { Description = "Layers of the synthesized model.", DefaultValueFactory = _ => defaults.Layers };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the synthesized model (a multiple of 64).", DefaultValueFactory = _ => defaults.Hidden };
        var rounds = new Option<int>("--rounds") { Description = "Measured rounds; medians are reported.", DefaultValueFactory = _ => defaults.Rounds };
        var sequences = new Option<string>("--sequences") { Description = "Sequence counts for batched decoding, comma-separated.", DefaultValueFactory = _ => string.Join(',', defaults.BatchSequences) };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("llama", "Decode speed and time to first token of the llama.cpp engine against a C harness on the same libllama; batched throughput for several sequences.")
        {
            threads, tokens, layers, hidden, rounds, sequences, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            List<int> counts;
            try
            {
                counts = [.. parse.GetValue(sequences)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
            }
            catch (FormatException)
            {
                stderr.WriteLine("error: --sequences must be comma-separated numbers, such as 1,4,8");
                return 1;
            }

            var options = new LlamaBenchmarkOptions
            {
                Threads = parse.GetValue(threads),
                DecodeTokens = parse.GetValue(tokens),
                Layers = parse.GetValue(layers),
                Hidden = parse.GetValue(hidden),
                Rounds = parse.GetValue(rounds),
                BatchSequences = counts,
            };

            LlamaBenchmarkReport report;
            try
            {
                report = await LlamaBenchmark.RunAsync(options, new StderrProgress(stderr), cancellationToken);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or LlamaLibraryException or MoeMesh.Errors.MoeMeshException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }

            if (parse.GetValue(json))
            {
                WriteJson(stdout, report);
                return 0;
            }

            Write(stdout, report);
            return 0;
        });
        return command;
    }

    /// <summary>The report for scripts: the headline ratios (engine over harness, medians of paired rounds) first.</summary>
    private static void WriteJson(TextWriter stdout, LlamaBenchmarkReport report)
    {
        var widest = report.Batched.MaxBy(b => b.Sequences);
        stdout.WriteLine(CliJson.Serialize(new
        {
            report.Single.DecodeRatio,
            report.Single.TimeToFirstTokenRatio,
            BatchedSequences = widest?.Sequences,
            BatchedRatio = widest?.TotalThroughputRatio,
            report.Model,
            report.ModelParameters,
            report.PromptTokens,
            report.Threads,
            report.DecodeTokens,
            report.Rounds,
            single = Describe(report.Single),
            batched = report.Batched.Select(Describe),
            report.OutputsMatch,
            report.LlamaVersion,
            report.LibraryPath,
            report.Machine,
        }));
    }

    private static object Describe(LlamaBenchmarkComparison comparison) => new
    {
        comparison.Sequences,
        comparison.Engine,
        comparison.Harness,
        comparison.DecodeRatio,
        comparison.TimeToFirstTokenRatio,
        comparison.TotalThroughputRatio,
    };

    private static void Write(TextWriter output, LlamaBenchmarkReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var single = report.Single;
        output.WriteLine($"llama.cpp engine (LLamaSharp) vs C harness: same libllama {report.LlamaVersion}, same model, {report.Threads} threads");
        output.WriteLine($"library: {report.LibraryPath}");
        output.WriteLine(string.Create(inv, $"model: {report.Model} ({report.ModelParameters:N0} parameters)"));
        output.WriteLine(string.Create(inv, $"prompt {report.PromptTokens} tokens, {report.DecodeTokens} tokens generated, medians of {report.Rounds} rounds"));
        output.WriteLine($"machine: {report.Machine}");
        output.WriteLine();
        output.WriteLine("one sequence                 engine      harness   engine/harness");
        output.WriteLine(string.Create(inv, $"decode tokens/s          {single.Engine.DecodeTokensPerSecond,10:F1}   {single.Harness.DecodeTokensPerSecond,10:F1}   {single.DecodeRatio,8:F3}"));
        output.WriteLine(string.Create(inv, $"time to first token ms   {single.Engine.TimeToFirstTokenMs,10:F2}   {single.Harness.TimeToFirstTokenMs,10:F2}   {single.TimeToFirstTokenRatio,8:F3}  (harness/engine)"));
        output.WriteLine(string.Create(inv, $"prefill tokens/s         {single.Engine.PrefillTokensPerSecond,10:F0}   {single.Harness.PrefillTokensPerSecond,10:F0}"));
        output.WriteLine();
        output.WriteLine("sequences together   engine tokens/s   harness tokens/s   engine/harness   engine decode/s per sequence");
        foreach (var batch in report.Batched)
        {
            output.WriteLine(string.Create(inv,
                $"{batch.Sequences,18}   {batch.Engine.TotalTokensPerSecond,15:F1}   {batch.Harness.TotalTokensPerSecond,16:F1}   {batch.TotalThroughputRatio,14:F3}   {batch.Engine.DecodeTokensPerSecond,12:F1}"));
        }

        output.WriteLine();
        output.WriteLine($"outputs identical: {(report.OutputsMatch ? "yes" : "NO")}");
    }

    /// <summary>Progress lines on stderr, so stdout stays the report alone.</summary>
    private sealed class StderrProgress(TextWriter error) : IProgress<string>
    {
        public void Report(string value) => error.WriteLine($"[bench llama] {value}");
    }
}
