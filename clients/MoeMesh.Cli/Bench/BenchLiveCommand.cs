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
        var queries = new Option<int>("--queries") { Description = "Measured queries.", DefaultValueFactory = _ => 200 };
        var warmup = new Option<int>("--warmup") { Description = "Queries sent first and not reported (calibration settles).", DefaultValueFactory = _ => 24 };
        var concurrency = new Option<string>("--concurrency") { Description = "Comma-separated concurrency levels; the queries are split evenly among them.", DefaultValueFactory = _ => "1,2,4,8" };
        var promptWords = new Option<string>("--prompt-words") { Description = "Range of prompt lengths in words, min..max.", DefaultValueFactory = _ => "8..160" };
        var outputTokens = new Option<string>("--output-tokens") { Description = "Range of max tokens per query, min..max.", DefaultValueFactory = _ => "8..128" };
        var budgetFactor = new Option<string>("--budget-factor") { Description = "Range of latency budgets as multiples of the expected prediction, min..max.", DefaultValueFactory = _ => "0.5..3" };
        var experts = new Option<string?>("--experts") { Description = "Folder of expert manifests (default: the synthesized demo experts, written if missing)." };
        var silos = new Option<string>("--silos") { Description = "Comma-separated device profiles, one silo process each.", DefaultValueFactory = _ => UpCommand.DefaultProfiles };
        var siloPort = new Option<int>("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 24311 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 34311 };
        var siloSetting = new Option<string[]>("--silo-setting") { Description = "Extra silo configuration Key=Value for every silo (repeatable)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the drawn queries.", DefaultValueFactory = _ => 1 };
        var queryTimeout = new Option<double>("--query-timeout") { Description = "Seconds one query may take before it counts as failed.", DefaultValueFactory = _ => 120 };
        var json = MeshOptions.Json();
        var command = new Command("live", "Measure the cost model on live llama.cpp experts: latency and energy prediction error, and budgets met by plans found feasible.")
        {
            queries, warmup, concurrency, promptWords, outputTokens, budgetFactor, experts, silos, siloPort, gatewayPort, siloSetting, seed, queryTimeout, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            LiveBenchWorkload workload;
            try
            {
                var (minWords, maxWords) = Range(parse.GetValue(promptWords)!, "--prompt-words");
                var (minTokens, maxTokens) = Range(parse.GetValue(outputTokens)!, "--output-tokens");
                var (minFactor, maxFactor) = Range(parse.GetValue(budgetFactor)!, "--budget-factor");
                workload = new LiveBenchWorkload
                {
                    Queries = parse.GetValue(queries),
                    Warmup = parse.GetValue(warmup),
                    Concurrency = parse.GetValue(concurrency)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(c => int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--concurrency: '{c}' is not a whole number"))
                        .ToList(),
                    MinPromptWords = (int)minWords,
                    MaxPromptWords = (int)maxWords,
                    MinOutputTokens = (int)minTokens,
                    MaxOutputTokens = (int)maxTokens,
                    MinBudgetFactor = minFactor,
                    MaxBudgetFactor = maxFactor,
                    Seed = parse.GetValue(seed),
                    QueryTimeout = TimeSpan.FromSeconds(parse.GetValue(queryTimeout)),
                };
                if (workload.Validate() is { Count: > 0 } problems)
                {
                    throw new ArgumentException(string.Join("; ", problems));
                }
            }
            catch (ArgumentException e)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return ExitCodes.Usage;
            }

            try
            {
                var folder = parse.GetValue(experts) is { Length: > 0 } given ? Path.GetFullPath(given) : await DemoExperts.EnsureAsync(stderr, cancellationToken);
                if (!Directory.Exists(folder))
                {
                    await stderr.WriteLineAsync($"error: --experts: no folder {folder}");
                    return ExitCodes.Usage;
                }

                var profiles = parse.GetValue(silos)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var mesh = new MeshSettings(folder, LocalMesh.Plan(profiles, parse.GetValue(siloPort), parse.GetValue(gatewayPort)), parse.GetValue(siloSetting) ?? []);
                return await RunAsync(workload, mesh, parse.GetValue(json), stdout, stderr, cancellationToken);
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
        });
        return command;
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
