using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Eval;
using MoeMesh.Cli.Mesh;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// One run of <c>moemesh bench replay</c>: checks the arguments and reads the data, draws the
/// questions, measures them on a local mesh, compares with <c>moemesh eval</c>'s prediction and
/// writes the report.
/// </summary>
internal sealed class BenchReplayAction(BenchReplayOptions options, ParseResult parse)
{
    private readonly TextWriter _stdout = parse.InvocationConfiguration.Output;
    private readonly TextWriter _stderr = parse.InvocationConfiguration.Error;
    private readonly BenchReplayCommand.StderrProgress _progress = new(parse.InvocationConfiguration.Error);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Inputs inputs;
        try
        {
            inputs = ReadInputs();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await _stderr.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }

        var (sample, warm) = DrawQuestions(inputs.Dataset, inputs.Arguments);
        var folder = Path.Combine(LocalMeshState.Home, "bench-replay", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
        Measured measured;
        try
        {
            measured = await MeasureAsync(inputs, sample, warm, Path.Combine(folder, "experts"), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MeshUnreachableException or IOException)
        {
            await _stderr.WriteLineAsync($"moemesh bench replay: {ex.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            BenchReplayCommand.TryDelete(folder);
        }

        var report = WithEvalPrediction(inputs, measured);
        if (options.Json(parse))
        {
            await _stdout.WriteLineAsync(CliJson.Serialize(report));
        }
        else
        {
            report.Write(_stdout);
        }

        return report.Answered == report.Sent ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>The checked arguments, the located data, the replay setup and the recorded dataset; throws on bad input.</summary>
    private Inputs ReadInputs()
    {
        var arguments = options.Arguments(parse);
        var dataFile = EvalInputs.LocateDataFile(options.Data(parse));
        var setup = ReplayBenchSetup.Create(arguments.Silos, dataFile, arguments.TimeScale, arguments.OutputTokens);
        if (arguments.KillSilo is { } kill && kill > setup.Silos.Count)
        {
            throw new ArgumentException($"--kill-silo {kill} is past the {setup.Silos.Count} silos of --silos");
        }

        _progress.Report($"reading {dataFile}");
        var dataset = EvalInputs.ReadDataset(dataFile);
        return new Inputs(arguments, dataset, dataFile, setup);
    }

    /// <summary>The measured test-split questions and the training-split warm-up, both in the seed's order.</summary>
    private (List<RecordedQuestion> Sample, List<RecordedQuestion> Warm) DrawQuestions(RecordedDataset dataset, ReplayBenchArguments arguments)
    {
        var random = new Random(options.Seed(parse));
        var test = DataSplit.Default.Test(dataset).Questions.ToArray();
        random.Shuffle(test);
        var sample = test.Take(arguments.Queries ?? test.Length).ToList();
        var train = DataSplit.Default.Train(dataset).Questions.ToArray();
        random.Shuffle(train);
        var warm = train.Take(arguments.Warmup).ToList();
        return (sample, warm);
    }

    /// <summary>Brings up the mesh of replay experts, warms it up, sends the sample (killing a silo when asked) and builds the report.</summary>
    private async Task<Measured> MeasureAsync(Inputs inputs, List<RecordedQuestion> sample, List<RecordedQuestion> warm, string experts, CancellationToken cancellationToken)
    {
        var (arguments, _, dataFile, setup) = inputs;
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

        setup.WriteManifests(experts);
        _progress.Report($"{setup.Manifests.Count} replay experts ({setup.Assignment}) at time scale {arguments.TimeScale.ToString(CultureInfo.InvariantCulture)}; manifests in {experts}");
        var meshSettings = options.Mesh(parse);
        await using var mesh = await MeshBringUp.StartAsync(
            setup.SiloSpecs(meshSettings.SiloPort, meshSettings.GatewayPort), [experts], SiloArguments(dataFile, meshSettings), _stderr, cancellationToken);
        await BenchReplayCommand.EnsureExpertsReadyAsync(mesh, setup, _progress, cancellationToken);

        if (warm.Count > 0)
        {
            _progress.Report($"warming up with {warm.Count} training-split questions");
            await new ReplayBenchRunner(mesh.Connection.Client, arguments.Load(queryOptions) with { Rate = null }, _stderr).RunAsync(warm, "warm-up", cancellationToken);
        }

        _progress.Report($"sending {sample.Count} test-split questions");
        var runner = new ReplayBenchRunner(mesh.Connection.Client, arguments.Load(queryOptions), _stderr);
        var measuring = Stopwatch.GetTimestamp();
        using var stopKill = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var killing = arguments.KillAfterSeconds is { } after
            ? BenchReplayCommand.KillAsync(mesh.Mesh, arguments.KillSilo ?? setup.Silos.Count, after, measuring, runner, _progress, stopKill.Token)
            : Task.FromResult<(ReplayKill?, long)>((null, 0));
        var (records, seconds, lag) = await runner.RunAsync(sample, "measured", cancellationToken);
        await stopKill.CancelAsync();
        var (kill, _) = await killing;
        if (arguments.KillAfterSeconds is not null && kill is null)
        {
            warnings.Add($"the run ended after {seconds:0.0} s, before --kill-silo-after {arguments.KillAfterSeconds:0.#}; no silo was killed");
        }

        var report = ReplayBenchReport.Build(Settings(inputs, sample.Count, warm.Count), records, seconds, lag, kill, warnings);
        _progress.Report("stopping the mesh…");
        return new Measured(report, records);
    }

    /// <summary>What every silo of the bench's mesh is told: modelled energy, replay experts, the routers' training data, quiet logs, then the user's settings.</summary>
    private static string[] SiloArguments(string dataFile, ReplayMeshSettings mesh) =>
    [
        "--MoeMesh:Energy:Meter=Model",
        $"--{ReplayServiceCollectionExtensions.EnabledSetting}=true",
        // The routers fit the same gate and skill profiles on the training split as moemesh eval.
        $"--MoeMesh:Routing:TrainingData={dataFile}",
        "--MoeMesh:Dashboard:OrleansDashboard=false",
        "--Logging:LogLevel:Default=Warning",
        .. mesh.SiloSettings.Select(s => s.StartsWith("--", StringComparison.Ordinal) ? s : "--" + s),
    ];

    private ReplayBenchSettings Settings(Inputs inputs, int queries, int warmupQueries)
    {
        var (arguments, _, dataFile, setup) = inputs;
        return new ReplayBenchSettings
        {
            Queries = queries,
            Concurrency = arguments.Concurrency,
            Rate = arguments.Rate,
            Strategy = arguments.Strategy.ToString().ToLowerInvariant(),
            K = arguments.K,
            BudgetMs = arguments.BudgetMs,
            BudgetJ = arguments.BudgetJ,
            TimeScale = arguments.TimeScale,
            OutputTokens = arguments.OutputTokens,
            WarmupQueries = warmupQueries,
            Seed = options.Seed(parse),
            Silos = setup.Silos.Select(s => s.Profile).ToList(),
            Devices = setup.Assignment.ToString(),
            Data = dataFile,
            KillSiloAfterSeconds = arguments.KillAfterSeconds,
            KillSilo = arguments.KillAfterSeconds is null ? null : arguments.KillSilo ?? setup.Silos.Count,
        };
    }

    /// <summary>The report with what <c>moemesh eval</c>'s router predicts for the same questions, when one was asked for.</summary>
    private ReplayBenchReport WithEvalPrediction(Inputs inputs, Measured measured)
    {
        var (arguments, dataset, _, setup) = inputs;
        var report = measured.Report;
        if (arguments.EvalRouter is not { } router)
        {
            return report;
        }

        var evalK = arguments.K ?? ReplayEvalPrediction.DefaultK(arguments.Strategy);
        return report with
        {
            Eval = ReplayEvalPrediction.Compare(dataset, setup, router, evalK, report.Settings, measured.Records, report.Accuracy, _progress),
        };
    }

    private sealed record Inputs(ReplayBenchArguments Arguments, RecordedDataset Dataset, string DataFile, ReplayBenchSetup Setup);

    private sealed record Measured(ReplayBenchReport Report, IReadOnlyList<ReplayQueryRecord> Records);
}
