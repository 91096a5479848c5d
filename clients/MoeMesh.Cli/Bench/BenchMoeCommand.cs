using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Benchmarks;
using MoeMesh.Inference.Moe.Loading;
using MoeMesh.Inference.Moe.Oracle;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench moe</c>: decode speed of a Mixture-of-Experts model in llama.cpp and in MoeMesh
/// (monolithic, ONNX Runtime) on the same GGUF in one run, with the oracle figures.
/// </summary>
public static class BenchMoeCommand
{
    public static Command Create()
    {
        var options = new BenchMoeOptions();
        var command = new Command("moe", "Decode tokens/s of an MoE model in llama.cpp and MoeMesh monolithic, with the logit oracle.")
        {
            options.Model, options.Threads, options.Prompt, options.Tokens, options.Rounds, options.Silos, options.SiloPort, options.GatewayPort, options.Json,
        };

        command.SetAction((parse, cancellationToken) => RunAsync(parse, options, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, BenchMoeOptions options, CancellationToken cancellationToken)
    {
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        var maxSilos = parse.GetValue(options.Silos);
        if (maxSilos is < 0 or > 8)
        {
            await stderr.WriteLineAsync("error: --silos must be 0 to 8");
            return ExitCodes.Usage;
        }

        var ports = (parse.GetValue(options.SiloPort), parse.GetValue(options.GatewayPort));
        if (ports.Item1 is < 1 or > 65535 - 8 || ports.Item2 is < 1 or > 65535 - 8)
        {
            await stderr.WriteLineAsync("error: --silo-port and --gateway-port must be 1 to 65527");
            return ExitCodes.Usage;
        }

        var modelPath = parse.GetValue(options.Model);
        var work = modelPath is null ? Directory.CreateTempSubdirectory("moemesh-bench-moe-").FullName : null;
        var benchmark = new MoeBenchmarkOptions
        {
            ModelPath = modelPath,
            WorkFolder = work,
            Threads = parse.GetValue(options.Threads),
            PromptTokens = parse.GetValue(options.Prompt),
            DecodeTokens = parse.GetValue(options.Tokens),
            Rounds = parse.GetValue(options.Rounds),
        };
        var problems = benchmark.Validate();
        if (problems.Count > 0)
        {
            stderr.WriteLine($"error: {string.Join("; ", problems)}");
            if (work is not null)
            {
                Directory.Delete(work, recursive: true);
            }

            return ExitCodes.Usage;
        }

        MoeBenchmarkReport report;
        MoeDistributedBenchReport? distributed = null;
        try
        {
            report = MoeDecodeBenchmark.Run(benchmark, new Progress(stderr));
            if (maxSilos >= 2)
            {
                var path = modelPath ?? Path.Combine(work!, benchmark.Synthesis.Name + ".gguf");
                distributed = await RunDistributedAsync(path, report, benchmark, maxSilos, ports, stderr, cancellationToken);
            }
        }
        catch (Exception e) when (ExitCodeOf(e) is { } code)
        {
            stderr.WriteLine($"error: {e.Message}");
            return code;
        }
        finally
        {
            if (work is not null)
            {
                Directory.Delete(work, recursive: true);
            }
        }

        Print(stdout, report, distributed, parse.GetValue(options.Json));
        return report.Oracle.Passes && distributed?.Oracle is null or { Passes: true } ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>A bad model file or option is the caller's input; a failed run is not; anything else is a bug and is not caught.</summary>
    private static int? ExitCodeOf(Exception e) => e switch
    {
        GgufFormatException or MoeModelFormatException or ArgumentException => ExitCodes.Usage,
        InvalidOperationException or IOException or LLama.Exceptions.RuntimeError or Microsoft.ML.OnnxRuntime.OnnxRuntimeException
            or MoeMesh.Errors.MoeMeshException or TimeoutException => ExitCodes.Failed,
        _ => null,
    };

    /// <summary>The same model with its expert shards over 2 … <paramref name="maxSilos"/> silo processes, fed a seeded random prompt.</summary>
    private static Task<MoeDistributedBenchReport> RunDistributedAsync(
        string path, MoeBenchmarkReport report, MoeBenchmarkOptions options, int maxSilos, (int Silo, int Gateway) ports, TextWriter stderr, CancellationToken cancellationToken)
    {
        var random = new Random(20261203);
        var promptTokens = Enumerable.Range(0, options.PromptTokens).Select(_ => random.Next(report.Shape.VocabularySize)).ToArray();
        return MoeDistributedBenchRunner.RunAsync(
            path, report.ModelParameters, promptTokens, options.DecodeTokens, options.Rounds, [.. Enumerable.Range(2, maxSilos - 1)],
            report.Shape.HiddenSize, ports, stderr, cancellationToken);
    }

    private static void Print(TextWriter stdout, MoeBenchmarkReport report, MoeDistributedBenchReport? distributed, bool json)
    {
        if (json)
        {
            stdout.WriteLine(CliJson.Serialize(ToJson(report, distributed)));
        }
        else
        {
            Write(stdout, report);
            WriteDistributed(stdout, report, distributed);
        }
    }

    private static double? Speed(MoeDistributedBenchReport? d, int silos) => d?.Speeds.FirstOrDefault(s => s.Silos == silos)?.TokensPerSecond;

    private static object ToJson(MoeBenchmarkReport r, MoeDistributedBenchReport? d) => new
    {
        model = r.Model,
        shape = r.Shape,
        modelParameters = r.ModelParameters,
        monolithicResidentBytes = r.MonolithicResidentBytes,
        threads = r.Threads,
        promptTokens = r.PromptTokens,
        decodeTokens = r.DecodeTokens,
        tokensPerSecond = new
        {
            llamaCpp = r.LlamaCpp.TokensPerSecond, monolithic = r.Monolithic.TokensPerSecond, distributed2 = Speed(d, 2), distributed3 = Speed(d, 3),
        },
        distributed2OverMonolithic = Speed(d, 2) / r.Monolithic.TokensPerSecond,
        distributed = d?.Speeds,
        hopP50Us = d?.Hop?.HopP50Us,
        hopP99Us = d?.Hop?.HopP99Us,
        hopTransport = d?.Hop?.Transport,
        bytesPerTokenPerHop = d?.Hop is { } hop ? new { f32 = hop.BytesPerTokenF32, f16 = hop.BytesPerTokenF16 } : null,
        millisecondsPerToken = new { llamaCpp = r.LlamaCpp.MillisecondsPerToken, monolithic = r.Monolithic.MillisecondsPerToken },
        rounds = new { llamaCpp = r.LlamaCpp.Rounds, monolithic = r.Monolithic.Rounds },
        bestTokensPerSecond = new { llamaCpp = r.LlamaCpp.BestTokensPerSecond, monolithic = r.Monolithic.BestTokensPerSecond },
        monolithicOverLlamaCpp = r.MonolithicOverLlamaCpp,
        bestMonolithicOverLlamaCpp = r.BestMonolithicOverLlamaCpp,
        // The oracle's figures come from the run over 2 silo processes when there was one, else from the monolithic run.
        oracleSource = d?.Oracle is null ? "monolithic" : "distributed2",
        maxAbsLogitDiffRatio = (d?.Oracle ?? r.Oracle).MaxAbsLogitDiffRatio,
        top1Agreement = (d?.Oracle ?? r.Oracle).Top1Agreement,
        greedyIdentical = (d?.Oracle ?? r.Oracle).GreedyIdentical,
        oracle = new { monolithic = OracleJson(r.Oracle), distributed2 = d?.Oracle is { } o ? OracleJson(o) : null },
    };

    private static object OracleJson(MoeOracleReport o) => new
    {
        maxAbsLogitDiffRatio = o.MaxAbsLogitDiffRatio, top1Agreement = o.Top1Agreement, greedyIdentical = o.GreedyIdentical,
        firstGreedyDifference = o.FirstGreedyDifference, passes = o.Passes,
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

    private static void WriteDistributed(TextWriter output, MoeBenchmarkReport r, MoeDistributedBenchReport? d)
    {
        if (d is null)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        output.WriteLine();
        foreach (var s in d.Speeds)
        {
            output.WriteLine(string.Create(inv,
                $"MoeMesh over {s.Silos} silos: {s.TokensPerSecond:F1} tokens/s ({s.TokensPerSecond / r.Monolithic.TokensPerSecond:F3} of monolithic), {s.BytesPerToken:F0} frame bytes per token"));
        }

        if (d.Hop is { } hop)
        {
            output.WriteLine(string.Create(inv,
                $"activation hop ({hop.Transport}, H = {hop.HiddenSize}): p50 {hop.HopP50Us:F0} µs, p99 {hop.HopP99Us:F0} µs; bytes per token per hop: f32 {hop.BytesPerTokenF32}, f16 {hop.BytesPerTokenF16}"));
        }

        if (d.Oracle is { } o)
        {
            output.WriteLine(string.Create(inv,
                $"oracle over 2 silo processes: max |Δlogit| / max |logit| = {o.MaxAbsLogitDiffRatio:E2}, top-1 agreement {o.Top1Agreement:P0}, greedy identical: {(o.GreedyIdentical ? "yes" : "NO")}"));
        }
    }

    private sealed class Progress(TextWriter error) : IProgress<string>
    {
        public void Report(string value) => error.WriteLine($"[bench moe] {value}");
    }

    /// <summary>The command's options, with the benchmark's own defaults.</summary>
    private sealed class BenchMoeOptions
    {
        private static readonly MoeBenchmarkOptions Defaults = new();

        public Option<string?> Model { get; } = new Option<string?>("--model") { Description = "An MoE GGUF to measure; default: a synthesized quarter-width Qwen3-30B-A3B (see docs/moe.md)." };

        public Option<int> Threads { get; } = new Option<int>("--threads") { Description = "CPU threads for llama.cpp and for MoeMesh: the backbone's ONNX Runtime sessions, and how many of a step's experts run side by side.", DefaultValueFactory = _ => Defaults.Threads };

        public Option<int> Prompt { get; } = new Option<int>("--prompt") { Description = "Prompt tokens.", DefaultValueFactory = _ => Defaults.PromptTokens };

        public Option<int> Tokens { get; } = new Option<int>("--tokens") { Description = "Tokens generated per timed run (and the oracle's greedy continuation).", DefaultValueFactory = _ => Defaults.DecodeTokens };

        public Option<int> Rounds { get; } = new Option<int>("--rounds") { Description = "Timed runs per engine; medians are reported.", DefaultValueFactory = _ => Defaults.Rounds };

        public Option<int> Silos { get; } = new Option<int>("--silos") { Description = "Decode also with the expert shards over 2 … N silo processes on loopback (and measure the activation hop); 0 or 1 skips it.", DefaultValueFactory = _ => 3 };

        public Option<int> SiloPort { get; } = new Option<int>("--silo-port") { Description = "First silo port of the distributed runs.", DefaultValueFactory = _ => 22411 };

        public Option<int> GatewayPort { get; } = new Option<int>("--gateway-port") { Description = "First gateway port of the distributed runs.", DefaultValueFactory = _ => 32411 };

        public Option<bool> Json { get; } = new Option<bool>("--json") { Description = "Print the report as JSON." };
    }
}
