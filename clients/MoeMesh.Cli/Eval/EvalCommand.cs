using System.CommandLine;
using MoeMesh.Cli.Common;
using MoeMesh.Embeddings;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;

namespace MoeMesh.Cli.Eval;

/// <summary>
/// <c>moemesh eval</c>: measures the routers on what real models answered (the recorded MMLU-Pro
/// outputs): fits on the training split, routes the test split, prints accuracy, predicted
/// latency and energy, budget compliance and decision time per router.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Folder (or file) of the recorded outputs; default: shared/data/mmlu-pro-29 found above the current folder." };
        var pool = new Option<string>("--pool") { Description = "Experts to route among: edge (12 open models that fit one edge box) or all (29).", DefaultValueFactory = _ => "edge" };
        pool.AcceptOnlyFromAmong("edge", "all");
        var router = new Option<string>("--router")
        {
            Description = $"Routers to evaluate: all, or a comma-separated list of {string.Join(", ", RouterNames.All)}.",
            DefaultValueFactory = _ => "all",
        };
        var k = new Option<int>("--k") { Description = "The most experts a plan may run.", DefaultValueFactory = _ => 3 };
        var budgetMs = new Option<double?>("--budget-ms") { Description = "Latency budget per query, in milliseconds." };
        var budgetJ = new Option<double?>("--budget-j") { Description = "Energy budget per query, in joules." };
        var devices = new Option<string>("--devices")
        {
            Description = "Where experts run: default, or device:expert,expert;device:expert with device ids from deploy/profiles (or 'cloud').",
            DefaultValueFactory = _ => "default",
        };
        var profiles = new Option<string?>("--profiles") { Description = "Folder of device profile JSON files; default: deploy/profiles found above the current folder." };
        var outputTokens = new Option<int>("--output-tokens")
        {
            Description = "Output tokens assumed per answer where the recording kept no output length.",
            DefaultValueFactory = _ => new EvaluationOptions().DefaultOutputTokens,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the random baseline and of sampled recruiting.", DefaultValueFactory = _ => 1 };
        var sweep = new Option<bool>("--sweep") { Description = "Also sweep energy budgets (shares of the best single expert's energy)." };
        var json = new Option<bool>("--json") { Description = "Write the results as JSON." };
        var plot = new Option<string?>("--plot") { Description = "Write an accuracy-versus-energy chart (PNG) of every router, the budget sweeps and the Pareto front." };
        var embeddings = new Option<string>("--embeddings")
        {
            Description = "Sentence embeddings the routers read: minilm (all-MiniLM-L6-v2, computed once and cached) or none.",
            DefaultValueFactory = _ => "minilm",
        };
        embeddings.AcceptOnlyFromAmong("minilm", "none");
        var cache = new Option<string?>("--cache") { Description = "Folder of cached question embeddings; default: ~/.moemesh/cache/embeddings." };
        var saveFit = new Option<string?>("--save-fit") { Description = "Write the routers fitted on the training split to this file, for a silo's MoeMesh:Routing:FitFile." };
        var probe = new Option<bool>("--probe")
        {
            Description = "Instead of routing, cross-validate per-expert correctness estimators (category, source, nearest questions by embedding) on the training split.",
        };

        var command = new Command("eval", "Evaluate the routers on recorded answers of real models: fit on the training split, report on the test split.")
        {
            data, pool, router, k, budgetMs, budgetJ, devices, profiles, outputTokens, seed, sweep, json, plot, embeddings, cache, saveFit, probe,
        };

        command.SetAction((ParseResult parse, CancellationToken cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var dataFile = EvalInputs.LocateDataFile(parse.GetValue(data));
                var poolName = parse.GetValue(pool)!;
                var poolExperts = RecordedModelCatalog.Pool(poolName);
                var routers = RouterNames.Resolve(parse.GetValue(router)!);
                var devicesSpec = parse.GetValue(devices)!;
                var assignment = devicesSpec.Equals("default", StringComparison.OrdinalIgnoreCase)
                    ? DeviceAssignment.DefaultFor(poolExperts)
                    : DeviceAssignment.Parse(devicesSpec);
                var deviceProfiles = EvalInputs.ReadProfiles(EvalInputs.LocateProfiles(parse.GetValue(profiles)));
                var options = new EvaluationOptions
                {
                    K = parse.GetValue(k),
                    LatencyBudgetMs = parse.GetValue(budgetMs),
                    EnergyBudgetJoules = parse.GetValue(budgetJ),
                    DefaultOutputTokens = parse.GetValue(outputTokens),
                    Seed = parse.GetValue(seed),
                };
                var problems = options.Validate();
                if (problems.Count > 0)
                {
                    throw new ArgumentException(string.Join("; ", problems));
                }

                var plotPath = parse.GetValue(plot);
                error.WriteLine($"reading {dataFile}");
                var dataset = EvalInputs.ReadDataset(dataFile);
                foreach (var warning in dataset.Report.Warnings)
                {
                    error.WriteLine($"warning: {warning}");
                }

                cancellationToken.ThrowIfCancellationRequested();
                using var embedder = parse.GetValue(embeddings) == "none" ? null : new MiniLmTextEmbedder();
                var vectors = embedder is null ? null : EvalEmbeddings.Load(dataFile, dataset, embedder, parse.GetValue(cache), error, cancellationToken);
                var progress = new SynchronousProgress(message => error.WriteLine(message));
                if (parse.GetValue(probe))
                {
                    EvalProbe.Write(dataset, poolExperts, vectors, parse.GetValue(json), output, progress);
                    return Task.FromResult(0);
                }

                RouterFactory? fittedFactory = null;
                var result = EvaluationRun.Execute(
                    dataset,
                    poolExperts,
                    assignment,
                    deviceProfiles,
                    routers,
                    options,
                    parse.GetValue(sweep) || plotPath is not null ? EvaluationRun.DefaultSweep : null,
                    progress,
                    vectors,
                    f => fittedFactory = f);

                if (parse.GetValue(saveFit) is { } fitPath && fittedFactory is not null)
                {
                    error.WriteLine("fitting every router part for the fit file");
                    RoutingFit.From(fittedFactory, EmbeddingCache.HashFile(dataFile), vectors?.Model).Save(fitPath);
                    error.WriteLine($"fit written to {Path.GetFullPath(fitPath)}");
                }

                if (plotPath is not null)
                {
                    EvalPlot.Save(result, plotPath, poolName);
                    error.WriteLine($"chart written to {Path.GetFullPath(plotPath)}");
                }

                if (parse.GetValue(json))
                {
                    output.WriteLine(CliJson.Serialize(result));
                }
                else
                {
                    EvalReportWriter.Write(output, result, dataFile, poolName);
                }

                return Task.FromResult(0);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
