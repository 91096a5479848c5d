using MoeMesh.Client;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;

namespace MoeMesh.Cli.Lab;

/// <summary>The checked settings of <c>moemesh lab load</c>.</summary>
internal sealed record LabLoadSettings(int Queries, double Rate, TimeSpan QueryTimeout, int ExpectedSilos, TimeSpan Settle, string MarksPath)
{
    /// <summary>A file created once the load has its first membership sample and starts sending, so the script injects the fault after it.</summary>
    public string? ReadyPath { get; init; }

    public static LabLoadSettings Parse(int queries, double rate, double timeoutSeconds, int expected, double settleSeconds, string marks)
    {
        return new LabLoadSettings(
            queries is >= 1 and <= 100_000 ? queries : throw new ArgumentException($"--queries must be between 1 and 100000, got {queries}"),
            double.IsFinite(rate) && rate is > 0 and <= 1000 ? rate : throw new ArgumentException($"--rate must be between 0 and 1000 a second, got {rate}"),
            double.IsFinite(timeoutSeconds) && timeoutSeconds is >= 1 and <= 600 ? TimeSpan.FromSeconds(timeoutSeconds) : throw new ArgumentException($"--query-timeout must be between 1 and 600 seconds, got {timeoutSeconds}"),
            expected is >= 1 and <= 1000 ? expected : throw new ArgumentException($"--expect-silos must be between 1 and 1000, got {expected}"),
            double.IsFinite(settleSeconds) && settleSeconds is >= 0 and <= 600 ? TimeSpan.FromSeconds(settleSeconds) : throw new ArgumentException($"--settle must be between 0 and 600 seconds, got {settleSeconds}"),
            string.IsNullOrWhiteSpace(marks) ? throw new ArgumentException("--marks names no file") : marks);
    }
}

/// <summary>Runs one fault's query load and works out its report.</summary>
internal static class LabLoad
{
    public static async Task<FaultLoadReport> RunAsync(IMoeMeshClient client, IReadOnlyList<RecordedQuestion> questions, LabLoadSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var options = new QueryOptions { Strategy = RoutingStrategy.Auto, K = 1, MaxTokens = 16, Sampling = SamplingOptions.Greedy };
        var runner = new LabLoadRunner(client, options, settings.QueryTimeout, TimeProvider.System);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = runner.WatchAsync(TimeSpan.FromMilliseconds(250), watching.Token);
        IReadOnlyList<LabQuery> records;
        try
        {
            // The membership before the fault is the baseline the fault is measured against.
            while (runner.Samples.Count == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, cancellationToken);
            }

            if (settings.ReadyPath is { } ready)
            {
                await File.WriteAllTextAsync(ready, $"{runner.Now}\n", cancellationToken);
            }

            records = await runner.RunAsync(questions, settings.Rate, progress, cancellationToken);
            progress.Report($"{records.Count(r => r.Answered)}/{records.Count} answered; watching membership until it settles");

            // Recovery may outlast the load (a partitioned silo restarting after the heal).
            var deadline = runner.Now + settings.Settle.TotalSeconds;
            while (runner.Now < deadline && !Settled(runner, settings))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), TimeProvider.System, cancellationToken);
            }
        }
        finally
        {
            await watching.CancelAsync();
            await watcher;
        }

        return FaultLoadReport.From(records, runner.Samples, FaultMark.Read(settings.MarksPath), settings.ExpectedSilos);
    }

    /// <summary>The fault and its end are marked, and the mesh is back to the expected silos since.</summary>
    private static bool Settled(LabLoadRunner runner, LabLoadSettings settings)
    {
        if (!File.Exists(settings.MarksPath))
        {
            return false;
        }

        var marks = FaultMark.Read(settings.MarksPath);
        if (marks.Count == 0 || (marks[0].Name is "partition" or "store-restart" && !marks.Any(m => m.Name is "heal" or "ready")))
        {
            return false;
        }

        var since = marks.Max(m => m.At);
        var samples = runner.Samples;
        return samples.Any(s => s.At > since && s.Active == settings.ExpectedSilos) && samples[^1].Active == settings.ExpectedSilos;
    }
}
