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
        var options = new EvalCommandOptions();
        var command = new Command("eval", "Evaluate the routers on recorded answers of real models: fit on the training split, report on the test split.");
        options.AddTo(command);
        command.SetAction((ParseResult parse, CancellationToken cancellationToken) =>
            Task.FromResult(Run(options.Read(parse), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken)));
        return command;
    }

    /// <summary>Runs the evaluation (or the probe) and writes its report; bad input is exit code 2.</summary>
    private static int Run(EvalArguments arguments, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var dataFile = EvalInputs.LocateDataFile(arguments.Data);
            var poolExperts = RecordedModelCatalog.Pool(arguments.Pool);
            var routers = RouterNames.Resolve(arguments.Router);
            var assignment = arguments.Devices.Equals("default", StringComparison.OrdinalIgnoreCase)
                ? DeviceAssignment.DefaultFor(poolExperts)
                : DeviceAssignment.Parse(arguments.Devices);
            var deviceProfiles = EvalInputs.ReadProfiles(EvalInputs.LocateProfiles(arguments.Profiles));
            var options = EvaluationOptionsOf(arguments);
            error.WriteLine($"reading {dataFile}");
            var dataset = EvalInputs.ReadDataset(dataFile);
            foreach (var warning in dataset.Report.Warnings)
            {
                error.WriteLine($"warning: {warning}");
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var embedder = arguments.Embeddings == "none" ? null : new MiniLmTextEmbedder();
            var vectors = embedder is null ? null : EvalEmbeddings.Load(dataFile, dataset, embedder, arguments.Cache, error, cancellationToken);
            var progress = new SynchronousProgress(message => error.WriteLine(message));
            if (arguments.Probe)
            {
                EvalProbe.Write(dataset, poolExperts, vectors, arguments.Json, output, progress);
                return ExitCodes.Ok;
            }

            RouterFactory? fittedFactory = null;
            var result = EvaluationRun.Execute(
                dataset,
                poolExperts,
                assignment,
                deviceProfiles,
                routers,
                options,
                arguments.Sweep || arguments.Plot is not null ? EvaluationRun.DefaultSweep : null,
                progress,
                vectors,
                f => fittedFactory = f);
            WriteOutputs(arguments, result, fittedFactory, dataFile, vectors, output, error);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>k, budgets, output tokens and seed; throws <see cref="ArgumentException"/> listing every problem.</summary>
    private static EvaluationOptions EvaluationOptionsOf(EvalArguments arguments)
    {
        var options = new EvaluationOptions
        {
            K = arguments.K,
            LatencyBudgetMs = arguments.BudgetMs,
            EnergyBudgetJoules = arguments.BudgetJ,
            DefaultOutputTokens = arguments.OutputTokens,
            Seed = arguments.Seed,
        };
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems));
        }

        return options;
    }

    /// <summary>The fit file and the chart when asked for, then the report as text or JSON.</summary>
    private static void WriteOutputs(
        EvalArguments arguments, EvaluationResult result, RouterFactory? fittedFactory, string dataFile, EvaluationEmbeddings? vectors, TextWriter output, TextWriter error)
    {
        if (arguments.SaveFit is { } fitPath && fittedFactory is not null)
        {
            error.WriteLine("fitting every router part for the fit file");
            RoutingFit.From(fittedFactory, EmbeddingCache.HashFile(dataFile), vectors?.Model).Save(fitPath);
            error.WriteLine($"fit written to {Path.GetFullPath(fitPath)}");
        }

        if (arguments.Plot is { } plotPath)
        {
            EvalPlot.Save(result, plotPath, arguments.Pool);
            error.WriteLine($"chart written to {Path.GetFullPath(plotPath)}");
        }

        if (arguments.Json)
        {
            output.WriteLine(CliJson.Serialize(result));
        }
        else
        {
            EvalReportWriter.Write(output, result, dataFile, arguments.Pool);
        }
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
