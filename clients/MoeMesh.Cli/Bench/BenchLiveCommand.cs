using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Mesh;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench live</c>: a local mesh of real llama.cpp experts (the synthesized demo experts
/// unless <c>--experts</c> names others) answers queries of random prompt lengths and token counts
/// under latency budgets drawn around the plans' own predictions, at several concurrency levels;
/// reports how far predictions were from measurements and whether feasible plans met their budgets.
/// </summary>
public static class BenchLiveCommand
{
    public static Command Create()
    {
        var options = new LiveOptions();
        var command = new Command("live", "Measure the cost model on live llama.cpp experts: latency and energy prediction error, and budgets met by plans found feasible.");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => ExecuteAsync(options, parse, cancellationToken));
        return command;
    }

    /// <summary>Checks the options, then runs the bench; bad options exit with the usage code.</summary>
    private static async Task<int> ExecuteAsync(LiveOptions options, ParseResult parse, CancellationToken cancellationToken)
    {
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        LiveBenchWorkload workload;
        try
        {
            workload = options.Workload(parse);
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }

        try
        {
            var folder = parse.GetValue(options.Experts) is { Length: > 0 } given ? Path.GetFullPath(given) : await DemoExperts.EnsureAsync(stderr, cancellationToken);
            if (!Directory.Exists(folder))
            {
                await stderr.WriteLineAsync($"error: --experts: no folder {folder}");
                return ExitCodes.Usage;
            }

            var profiles = parse.GetValue(options.Silos)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var mesh = new MeshSettings(folder, LocalMesh.Plan(profiles, parse.GetValue(options.SiloPort), parse.GetValue(options.GatewayPort)), parse.GetValue(options.SiloSetting) ?? []);
            return await RunAsync(workload, mesh, parse.GetValue(options.Json), stdout, stderr, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MeshUnreachableException or IOException)
        {
            await stderr.WriteLineAsync($"moemesh bench live: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>Brings up the mesh, runs the warm-up and the measured queries, and writes the report and the records.</summary>
    private static async Task<int> RunAsync(LiveBenchWorkload workload, MeshSettings settings, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        string[] siloArguments =
        [
            "--MoeMesh:Dashboard:OrleansDashboard=false",
            "--Logging:LogLevel:Default=Warning",
            .. settings.Settings.Select(s => s.StartsWith("--", StringComparison.Ordinal) ? s : "--" + s),
        ];
        await using var mesh = await MeshBringUp.StartAsync(settings.Silos, [settings.Experts], siloArguments, stderr, cancellationToken);
        // One gateway, so one router sees every query in flight (several routers learn apart).
        await using var connection = await MeshConnection.OpenAsync([mesh.Mesh.Gateways[0]], cancellationToken);
        var runner = new LiveBenchRunner(connection.Client, workload, stderr);
        if (workload.Warmup > 0)
        {
            await runner.RunAsync(workload.Warmup, "warm-up", workload.Seed + 1, cancellationToken);
        }

        var records = await runner.RunAsync(workload.Queries, "measured", workload.Seed, cancellationToken);
        var report = LiveBenchReport.From(records, "moemesh bench live " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1).SkipWhile(a => a != "live").Skip(1)), BuildKind);
        var recordsFile = Path.Combine(LocalMeshState.Home, "bench-live", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-records.json");
        Directory.CreateDirectory(Path.GetDirectoryName(recordsFile)!);
        await File.WriteAllTextAsync(recordsFile, CliJson.Serialize(records), cancellationToken);
        await stderr.WriteLineAsync($"[bench live] every query's record: {recordsFile}");
        await stdout.WriteLineAsync(json ? CliJson.Serialize(report) : report.ToText());
        await stderr.WriteLineAsync("[bench live] stopping the mesh…");
        return report.Answered == 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>Where the bench's mesh runs: the experts' folder, the silos, extra silo settings.</summary>
    private sealed record MeshSettings(string Experts, IReadOnlyList<LocalSiloSpec> Silos, IReadOnlyList<string> Settings);

    /// <summary>Release or Debug: figures from a Debug build are not the ones to quote.</summary>
#if DEBUG
    private const string BuildKind = "Debug";
#else
    private const string BuildKind = "Release";
#endif

    /// <summary>The command's options, and the workload they describe.</summary>
    private sealed class LiveOptions
    {
        public Option<int> Queries { get; } = new("--queries") { Description = "Measured queries.", DefaultValueFactory = _ => 200 };

        public Option<int> Warmup { get; } = new("--warmup") { Description = "Queries sent first and not reported (calibration settles).", DefaultValueFactory = _ => 24 };

        public Option<string> Concurrency { get; } = new("--concurrency") { Description = "Comma-separated concurrency levels; the queries are split evenly among them.", DefaultValueFactory = _ => "1,2,4,8" };

        public Option<string> PromptWords { get; } = new("--prompt-words") { Description = "Range of prompt lengths in words, min..max.", DefaultValueFactory = _ => "8..160" };

        public Option<string> OutputTokens { get; } = new("--output-tokens") { Description = "Range of max tokens per query, min..max.", DefaultValueFactory = _ => "8..128" };

        public Option<string> BudgetFactor { get; } = new("--budget-factor") { Description = "Range of latency budgets as multiples of the expected prediction, min..max.", DefaultValueFactory = _ => "0.5..3" };

        public Option<string?> Experts { get; } = new("--experts") { Description = "Folder of expert manifests (default: the synthesized demo experts, written if missing)." };

        public Option<string> Silos { get; } = new("--silos") { Description = "Comma-separated device profiles, one silo process each.", DefaultValueFactory = _ => UpCommand.DefaultProfiles };

        public Option<int> SiloPort { get; } = new("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 24311 };

        public Option<int> GatewayPort { get; } = new("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 34311 };

        public Option<string[]> SiloSetting { get; } = new("--silo-setting") { Description = "Extra silo configuration Key=Value for every silo (repeatable)." };

        public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the drawn queries.", DefaultValueFactory = _ => 1 };

        public Option<double> QueryTimeout { get; } = new("--query-timeout") { Description = "Seconds one query may take before it counts as failed.", DefaultValueFactory = _ => 120 };

        public Option<bool> Json { get; } = MeshOptions.Json();

        /// <summary>Adds the options to <paramref name="command"/>, in the order help lists them.</summary>
        public void AddTo(Command command)
        {
            Option[] all = [Queries, Warmup, Concurrency, PromptWords, OutputTokens, BudgetFactor, Experts, Silos, SiloPort, GatewayPort, SiloSetting, Seed, QueryTimeout, Json];
            foreach (var option in all)
            {
                command.Options.Add(option);
            }
        }

        /// <summary>The workload the options describe; throws <see cref="ArgumentException"/> naming the bad option.</summary>
        public LiveBenchWorkload Workload(ParseResult parse)
        {
            var (minWords, maxWords) = Range(parse.GetValue(PromptWords)!, "--prompt-words");
            var (minTokens, maxTokens) = Range(parse.GetValue(OutputTokens)!, "--output-tokens");
            var (minFactor, maxFactor) = Range(parse.GetValue(BudgetFactor)!, "--budget-factor");
            var workload = new LiveBenchWorkload
            {
                Queries = parse.GetValue(Queries),
                Warmup = parse.GetValue(Warmup),
                Concurrency = parse.GetValue(Concurrency)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(c => int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--concurrency: '{c}' is not a whole number"))
                    .ToList(),
                MinPromptWords = (int)minWords,
                MaxPromptWords = (int)maxWords,
                MinOutputTokens = (int)minTokens,
                MaxOutputTokens = (int)maxTokens,
                MinBudgetFactor = minFactor,
                MaxBudgetFactor = maxFactor,
                Seed = parse.GetValue(Seed),
                QueryTimeout = TimeSpan.FromSeconds(parse.GetValue(QueryTimeout)),
            };
            return workload.Validate() is { Count: > 0 } problems ? throw new ArgumentException(string.Join("; ", problems)) : workload;
        }
    }

    private static (double Min, double Max) Range(string text, string option)
    {
        var parts = text.Split("..", StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max))
        {
            throw new ArgumentException($"{option} must be a range min..max, got '{text}'");
        }

        return (min, max);
    }
}
