using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Experts;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Eval;
using MoeMesh.Cli.Mesh;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench replay</c>: a local multi-silo mesh of replay experts (the edge pool on a Jetson
/// AGX Orin and an RTX 4090 profile, placed as <c>moemesh eval</c> places them) answers test-split
/// MMLU-Pro questions through the SDK; reports accuracy, throughput, latency, the mesh's overhead
/// beyond the experts' own time, budget compliance and answered/sent, optionally with a silo killed
/// mid-run, and what <c>moemesh eval</c> predicts for the same router and questions.
/// </summary>
public static class BenchReplayCommand
{
    public const string DefaultSilos = $"{DeviceAssignment.JetsonId},{DeviceAssignment.Rtx4090Id}";

    public static Command Create()
    {
        var queries = new Option<string>("--queries") { Description = "Test-split questions to send: a number, or 'all' (2,409).", DefaultValueFactory = _ => "500" };
        var concurrency = new Option<int>("--concurrency") { Description = "Queries in flight: exactly this many without --rate, at most this many with it.", DefaultValueFactory = _ => 16 };
        var rate = new Option<double?>("--rate") { Description = "Send this many queries per second on a fixed schedule (open loop) instead of a closed loop." };
        var strategy = new Option<RoutingStrategy>("--strategy") { Description = "Routing strategy: auto, single, fastest, cheapest, symbolic, moe2.", DefaultValueFactory = _ => RoutingStrategy.Auto };
        var k = new Option<int?>("--k") { Description = "Most experts per query (the strategy's default when absent)." };
        var budgetMs = new Option<double?>("--budget-ms") { Description = "Latency budget per query, in milliseconds." };
        var budgetJ = new Option<double?>("--budget-j") { Description = "Energy budget per query, in joules." };
        var timeScale = new Option<double>("--time-scale") { Description = "Wall-clock time per predicted unit of expert time: 0 answers at once (measures the mesh's own overhead), 1 is real time.", DefaultValueFactory = _ => 0 };
        var outputTokens = new Option<int>("--output-tokens") { Description = "Output tokens assumed where the recording has no length (every edge model), as in moemesh eval; also each query's max tokens.", DefaultValueFactory = _ => 256 };
        var killAfter = new Option<double?>("--kill-silo-after") { Description = "Kill one silo process this many seconds into the measured run." };
        var killSilo = new Option<int?>("--kill-silo") { Description = "Which silo --kill-silo-after kills, by its position in --silos from 1 (default: the last; the first holds the local mesh's membership)." };
        var silos = new Option<string>("--silos") { Description = "Comma-separated device profiles, one silo process each; must include the devices of the evaluation's default assignment.", DefaultValueFactory = _ => DefaultSilos };
        var siloPort = new Option<int>("--silo-port") { Description = "First silo port.", DefaultValueFactory = _ => 22111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "First gateway port.", DefaultValueFactory = _ => 32111 };
        var siloSetting = new Option<string[]>("--silo-setting") { Description = "Extra silo configuration Key=Value for every silo (repeatable)." };
        var data = new Option<string?>("--data") { Description = "Folder (or file) of the recorded outputs; default: shared/data/mmlu-pro-29 found above the current folder." };
        var warmup = new Option<int>("--warmup") { Description = "Training-split questions sent before measuring (not reported).", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed of the order in which test questions are drawn.", DefaultValueFactory = _ => 1 };
        var evalRouter = new Option<string>("--eval-router")
        {
            Description = $"The moemesh eval router to compare with: auto (moe2 for auto/single/moe2, symbolic-agg for symbolic), none, or one of {string.Join(", ", RouterNames.All)}.",
            DefaultValueFactory = _ => "auto",
        };
        var queryTimeout = new Option<double>("--query-timeout") { Description = "Seconds one query may take before it counts as failed.", DefaultValueFactory = _ => 300 };
        var json = MeshOptions.Json();
        var command = new Command("replay", "Replay recorded MMLU-Pro answers through a local multi-silo mesh: accuracy, throughput, latency, mesh overhead, budget compliance and answered/sent, optionally killing a silo mid-run.")
        {
            queries, concurrency, rate, strategy, k, budgetMs, budgetJ, timeScale, outputTokens, killAfter, killSilo, silos, siloPort, gatewayPort, siloSetting,
            data, warmup, seed, evalRouter, queryTimeout, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var progress = new StderrProgress(stderr);
            ReplayBenchArguments arguments;
            RecordedDataset dataset;
            string dataFile;
            ReplayBenchSetup setup;
            try
            {
                arguments = ReplayBenchArguments.Parse(
                    parse.GetValue(queries)!, parse.GetValue(concurrency), parse.GetValue(rate), parse.GetValue(strategy), parse.GetValue(k),
                    parse.GetValue(budgetMs), parse.GetValue(budgetJ), parse.GetValue(timeScale), parse.GetValue(outputTokens), parse.GetValue(killAfter),
                    parse.GetValue(killSilo), parse.GetValue(silos)!, parse.GetValue(warmup), parse.GetValue(evalRouter)!, parse.GetValue(queryTimeout));
                dataFile = EvalInputs.LocateDataFile(parse.GetValue(data));
                setup = ReplayBenchSetup.Create(arguments.Silos, dataFile, arguments.TimeScale, arguments.OutputTokens);
                if (arguments.KillSilo is { } kill && kill > setup.Silos.Count)
                {
                    throw new ArgumentException($"--kill-silo {kill} is past the {setup.Silos.Count} silos of --silos");
                }

                progress.Report($"reading {dataFile}");
                dataset = EvalInputs.ReadDataset(dataFile);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return ExitCodes.Usage;
            }

            var random = new Random(parse.GetValue(seed));
            var test = DataSplit.Default.Test(dataset).Questions.ToArray();
            random.Shuffle(test);
            var sample = test.Take(arguments.Queries ?? test.Length).ToList();
            var train = DataSplit.Default.Train(dataset).Questions.ToArray();
            random.Shuffle(train);
            var warm = train.Take(arguments.Warmup).ToList();
            var warnings = setup.PlacementWarnings().ToList();
            var queryOptions = new QueryOptions
            {
                Strategy = arguments.Strategy,
                K = arguments.K,
                LatencyBudgetMs = arguments.BudgetMs,
                EnergyBudgetJoules = arguments.BudgetJ,
                MaxTokens = arguments.OutputTokens,
                Sampling = SamplingOptions.Greedy,
            };

            var folder = Path.Combine(LocalMeshState.Home, "bench-replay", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
            var experts = Path.Combine(folder, "experts");
            ReplayBenchReport report;
            IReadOnlyList<ReplayQueryRecord> records;
            try
            {
                setup.WriteManifests(experts);
                progress.Report($"{setup.Manifests.Count} replay experts ({setup.Assignment}) at time scale {arguments.TimeScale.ToString(CultureInfo.InvariantCulture)}; manifests in {experts}");
                string[] siloArguments =
                [
                    "--MoeMesh:Energy:Meter=Model",
                    $"--{ReplayServiceCollectionExtensions.EnabledSetting}=true",
                    // The routers fit the same gate and skill profiles on the training split as moemesh eval.
                    $"--MoeMesh:Routing:TrainingData={dataFile}",
                    "--MoeMesh:Dashboard:OrleansDashboard=false",
                    "--Logging:LogLevel:Default=Warning",
                    .. (parse.GetValue(siloSetting) ?? []).Select(s => s.StartsWith("--", StringComparison.Ordinal) ? s : "--" + s),
                ];
                await using var mesh = await MeshBringUp.StartAsync(setup.SiloSpecs(parse.GetValue(siloPort), parse.GetValue(gatewayPort)), [experts], siloArguments, stderr, cancellationToken);
                await EnsureExpertsReadyAsync(mesh, setup, progress, cancellationToken);

                if (warm.Count > 0)
                {
                    progress.Report($"warming up with {warm.Count} training-split questions");
                    await new ReplayBenchRunner(mesh.Connection.Client, arguments.Load(queryOptions) with { Rate = null }, stderr).RunAsync(warm, "warm-up", cancellationToken);
                }

                progress.Report($"sending {sample.Count} test-split questions");
                var runner = new ReplayBenchRunner(mesh.Connection.Client, arguments.Load(queryOptions), stderr);
                var measuring = Stopwatch.GetTimestamp();
                using var stopKill = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var killing = arguments.KillAfterSeconds is { } after
                    ? KillAsync(mesh.Mesh, arguments.KillSilo ?? setup.Silos.Count, after, measuring, runner, progress, stopKill.Token)
                    : Task.FromResult<(ReplayKill?, long)>((null, 0));
                (records, var seconds, var lag) = await runner.RunAsync(sample, "measured", cancellationToken);
                await stopKill.CancelAsync();
                var (kill, _) = await killing;
                if (arguments.KillAfterSeconds is not null && kill is null)
                {
                    warnings.Add($"the run ended after {seconds:0.0} s, before --kill-silo-after {arguments.KillAfterSeconds:0.#}; no silo was killed");
                }

                var settings = new ReplayBenchSettings
                {
                    Queries = sample.Count,
                    Concurrency = arguments.Concurrency,
                    Rate = arguments.Rate,
                    Strategy = arguments.Strategy.ToString().ToLowerInvariant(),
                    K = arguments.K,
                    BudgetMs = arguments.BudgetMs,
                    BudgetJ = arguments.BudgetJ,
                    TimeScale = arguments.TimeScale,
                    OutputTokens = arguments.OutputTokens,
                    WarmupQueries = warm.Count,
                    Seed = parse.GetValue(seed),
                    Silos = setup.Silos.Select(s => s.Profile).ToList(),
                    Devices = setup.Assignment.ToString(),
                    Data = dataFile,
                    KillSiloAfterSeconds = arguments.KillAfterSeconds,
                    KillSilo = arguments.KillAfterSeconds is null ? null : arguments.KillSilo ?? setup.Silos.Count,
                };
                report = ReplayBenchReport.Build(settings, records, seconds, lag, kill, warnings);
                progress.Report("stopping the mesh…");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MeshUnreachableException or IOException)
            {
                await stderr.WriteLineAsync($"moemesh bench replay: {ex.Message}");
                return ExitCodes.Failed;
            }
            finally
            {
                TryDelete(folder);
            }

            if (arguments.EvalRouter is { } router)
            {
                var evalK = arguments.K ?? ReplayEvalPrediction.DefaultK(arguments.Strategy);
                report = report with
                {
                    Eval = ReplayEvalPrediction.Compare(dataset, setup, router, evalK, report.Settings, records, report.Accuracy, progress),
                };
            }

            if (parse.GetValue(json))
            {
                await stdout.WriteLineAsync(CliJson.Serialize(report));
            }
            else
            {
                report.Write(stdout);
            }

            return report.Answered == report.Sent ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>
    /// Every expert must be loaded and ready before measuring; a failed one stops the bench with its
    /// reason. Replicas the bring-up's parallel loads displaced from a silo's model memory (a replica
    /// reserves its model's weight bytes while it loads, so loads at once can push each other out) are
    /// loaded again one at a time; a replay expert holds almost nothing once loaded, so they all stay.
    /// </summary>
    private static async Task EnsureExpertsReadyAsync(MeshBringUp mesh, ReplayBenchSetup setup, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var grains = mesh.Connection.Services.GetRequiredService<IGrainFactory>();
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var snapshot = await mesh.Connection.Client.GetStatusAsync(cancellationToken);
            var ready = snapshot.Replicas.Where(r => r.State == ReplicaState.Ready).Select(r => r.Replica.ExpertId).ToHashSet(StringComparer.Ordinal);
            var missing = setup.Manifests.Where(m => !ready.Contains(m.Id)).ToList();
            if (missing.Count == 0)
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"replay experts not ready after 60 s: {string.Join(", ", missing.Select(m => m.Id))}");
            }

            progress.Report($"loading again: {string.Join(", ", missing.Select(m => m.Id))}");
            foreach (var manifest in missing)
            {
                var status = await grains.GetGrain<IExpertGrain>(new ExpertReplica(manifest.Id, 0).GrainKey).WarmUpAsync().WaitAsync(cancellationToken);
                if (status.State == ReplicaState.Failed)
                {
                    throw new InvalidOperationException($"replay expert {manifest.Id} failed to load: {status.Error}");
                }
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static async Task<(ReplayKill?, long)> KillAsync(LocalMesh mesh, int index, double afterSeconds, long measuring, ReplayBenchRunner runner, IProgress<string> progress, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(afterSeconds), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return (null, 0);
        }

        var (spec, process, _) = mesh.Silos[index - 1];
        var inFlight = runner.InFlight;
        var at = Stopwatch.GetElapsedTime(measuring).TotalSeconds;
        process.Kill(entireProcessTree: true);
        progress.Report(string.Create(CultureInfo.InvariantCulture, $"killed silo #{index} {spec.Profile} (pid {process.Id}) at {at:0.0} s with {inFlight} queries in flight"));
        return (new ReplayKill { Silo = spec.Profile, Index = index, ProcessId = process.Id, AtSeconds = at, InFlight = inFlight }, inFlight);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Progress lines on stderr, so stdout stays the report alone.</summary>
    private sealed class StderrProgress(TextWriter error) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (error)
            {
                error.WriteLine($"[bench replay] {value}");
            }
        }
    }
}
