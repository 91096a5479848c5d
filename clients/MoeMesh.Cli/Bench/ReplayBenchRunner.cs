using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MoeMesh.Client;
using MoeMesh.Generation;
using MoeMesh.Monitoring;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Bench;

/// <summary>How the bench sends queries.</summary>
/// <param name="Concurrency">Most queries in flight at once (closed loop without a rate: exactly this many).</param>
/// <param name="Rate">Queries per second sent on a fixed schedule (open loop), or null for a closed loop.</param>
/// <param name="Options">The options every query carries.</param>
/// <param name="QueryTimeout">How long one query may take before it counts as failed.</param>
public sealed record ReplayLoad(int Concurrency, double? Rate, QueryOptions Options, TimeSpan QueryTimeout);

/// <summary>What happened to one query.</summary>
public sealed record ReplayQueryRecord
{
    public required int QuestionId { get; init; }

    /// <summary>Seconds from the start of the measured phase to the query's send.</summary>
    public double SentAtSeconds { get; init; }

    /// <summary>True when the SDK returned the query's result (after any re-asks it made itself).</summary>
    public bool Answered { get; init; }

    /// <summary>Why the query was not answered: the error's type and message.</summary>
    public string? Failure { get; init; }

    /// <summary>From the SDK call to its result, measured in the client, in milliseconds.</summary>
    public double LatencyMs { get; init; }

    /// <summary>The query's latency as its router measured it.</summary>
    public double RouterLatencyMs { get; init; }

    /// <summary>The experts' own time on the query's critical path (slowest responder, plus the aggregator), in milliseconds.</summary>
    public double ExpertMs { get; init; }

    public string? Choice { get; init; }

    public bool Correct { get; init; }

    /// <summary>Energy of every run of the query, in joules.</summary>
    public double EnergyJoules { get; init; }

    /// <summary>Experts the plan ran (responders, in plan order).</summary>
    public IReadOnlyList<string> Experts { get; init; } = [];

    public bool PlanFeasible { get; init; } = true;

    public double PlanDecisionMs { get; init; }

    public string? Combination { get; init; }

    /// <summary>Times the SDK asked again because the silo running the query was lost.</summary>
    public int Reasks { get; init; }

    /// <summary>The SDK's notice of the first re-ask, saying what was lost.</summary>
    public string? ReaskReason { get; init; }

    /// <summary>Runs the router moved to another replica or expert after a failure.</summary>
    public int Failovers { get; init; }
}

/// <summary>Sends recorded questions to the mesh as multiple-choice queries and records each outcome.</summary>
public sealed class ReplayBenchRunner(IMoeMeshClient client, ReplayLoad load, TextWriter progress)
{
    private long _sent;
    private long _answered;
    private long _failed;
    private readonly ConcurrentQueue<double> _recentLatencies = new();

    /// <summary>Queries sent so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Queries sent and not finished yet.</summary>
    public long InFlight => Interlocked.Read(ref _sent) - Interlocked.Read(ref _answered) - Interlocked.Read(ref _failed);

    /// <summary>The query a recorded question becomes: its text as the user message and its options as the choices.</summary>
    public static Query ToQuery(RecordedQuestion question, QueryOptions options, string id)
        => new() { Id = id, Messages = [ChatTurn.User(question.Question)], Choices = question.Options, Options = options };

    /// <summary>
    /// Sends every question (closed loop at <see cref="ReplayLoad.Concurrency"/>, or open loop at
    /// <see cref="ReplayLoad.Rate"/> capped at that many in flight) and returns the records in send order,
    /// with the largest delay between a query's scheduled and actual send time (open loop).
    /// </summary>
    public async Task<(IReadOnlyList<ReplayQueryRecord> Records, double Seconds, double MaxSendLagMs)> RunAsync(
        IReadOnlyList<RecordedQuestion> questions, string label, CancellationToken cancellationToken)
    {
        var records = new ReplayQueryRecord[questions.Count];
        var started = Stopwatch.GetTimestamp();
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportAsync(label, questions.Count, started, reporting.Token);
        var maxLag = 0.0;
        try
        {
            if (load.Rate is { } rate)
            {
                using var gate = new SemaphoreSlim(load.Concurrency, load.Concurrency);
                var running = new List<Task>(questions.Count);
                for (var i = 0; i < questions.Count; i++)
                {
                    var due = started + (long)(i * Stopwatch.Frequency / rate);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > Stopwatch.Frequency / 1000)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancellationToken);
                    }

                    await gate.WaitAsync(cancellationToken);
                    maxLag = Math.Max(maxLag, (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency);
                    var index = i;
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            records[index] = await AskAsync(questions[index], index, started, cancellationToken);
                        }
                        finally
                        {
                            gate.Release();
                        }
                    }, CancellationToken.None));
                }

                await Task.WhenAll(running);
            }
            else
            {
                var next = -1;
                var workers = Enumerable.Range(0, Math.Min(load.Concurrency, questions.Count)).Select(_ => Task.Run(async () =>
                {
                    int index;
                    while ((index = Interlocked.Increment(ref next)) < questions.Count)
                    {
                        records[index] = await AskAsync(questions[index], index, started, cancellationToken);
                    }
                }, CancellationToken.None));
                await Task.WhenAll(workers);
            }
        }
        finally
        {
            await reporting.CancelAsync();
            await reporter;
        }

        return (records, Stopwatch.GetElapsedTime(started).TotalSeconds, maxLag);
    }

    private async Task<ReplayQueryRecord> AskAsync(RecordedQuestion question, int index, long phaseStart, CancellationToken cancellationToken)
    {
        var query = ToQuery(question, load.Options, string.Create(CultureInfo.InvariantCulture, $"q{question.QuestionId}-{index}-{Guid.NewGuid():N}"));
        var sentAt = Stopwatch.GetElapsedTime(phaseStart).TotalSeconds;
        Interlocked.Increment(ref _sent);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(load.QueryTimeout);
        var started = Stopwatch.GetTimestamp();
        QueryResult? result = null;
        var reasks = 0;
        string? reaskReason = null;
        string? failure = null;
        try
        {
            await foreach (var e in client.StreamAsync(query, timeout.Token))
            {
                switch (e)
                {
                    case QueryCompleted completed:
                        result = completed.Result;
                        break;
                    case QueryNotice notice when notice.Message.StartsWith("Lost the silo", StringComparison.Ordinal):
                        reasks++;
                        reaskReason ??= notice.Message;
                        break;
                }
            }

            if (result is null)
            {
                failure = "NoResult: the stream ended without a result";
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            failure = $"Timeout: no answer within {load.QueryTimeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var root = ex.GetBaseException();
            failure = $"{root.GetType().Name}: {root.Message}";
        }

        var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (result is null)
        {
            Interlocked.Increment(ref _failed);
            return new ReplayQueryRecord { QuestionId = question.QuestionId, SentAtSeconds = sentAt, LatencyMs = latency, Failure = failure, Reasks = reasks, ReaskReason = reaskReason };
        }

        Interlocked.Increment(ref _answered);
        _recentLatencies.Enqueue(latency);
        var responders = result.Runs.Where(r => r.Role == ExpertRole.Responder && r.Metrics is not null).Select(r => r.Metrics!.TotalMs).DefaultIfEmpty(0).Max();
        var aggregators = result.Runs.Where(r => r.Role == ExpertRole.Aggregator && r.Metrics is not null).Sum(r => r.Metrics!.TotalMs);
        return new ReplayQueryRecord
        {
            QuestionId = question.QuestionId,
            SentAtSeconds = sentAt,
            Answered = true,
            LatencyMs = latency,
            RouterLatencyMs = result.LatencyMs,
            ExpertMs = responders + aggregators,
            Choice = result.Choice,
            Correct = string.Equals(result.Choice, question.Answer, StringComparison.Ordinal),
            EnergyJoules = result.EnergyJoules,
            Experts = result.Plan.Steps.Where(s => s.Role == ExpertRole.Responder).Select(s => s.ExpertId).ToList(),
            PlanFeasible = result.Plan.Feasible,
            PlanDecisionMs = result.Plan.DecisionMs,
            Combination = result.Combination.ToWireName(),
            Reasks = reasks,
            ReaskReason = reaskReason,
            Failovers = result.Notes.Count(n => n.Contains("re-planned", StringComparison.Ordinal)),
        };
    }

    /// <summary>A line on stderr about once a second: progress, recent rate and median latency.</summary>
    private async Task ReportAsync(string label, int total, long started, CancellationToken cancellationToken)
    {
        var lastDone = 0L;
        var lastAt = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
                var done = Interlocked.Read(ref _answered) + Interlocked.Read(ref _failed);
                var now = Stopwatch.GetTimestamp();
                var rate = (done - lastDone) / Math.Max(1e-9, (now - lastAt) / (double)Stopwatch.Frequency);
                (lastDone, lastAt) = (done, now);
                var latencies = new List<double>();
                while (_recentLatencies.TryDequeue(out var l))
                {
                    latencies.Add(l);
                }

                // The first queries wait while the routers fit their gates: say how many are under way, not a p50 of nothing.
                var median = latencies.Count == 0 ? "none finished this second" : string.Create(CultureInfo.InvariantCulture, $"p50 {Percentiles.NearestRank(latencies, 0.5):0.0} ms");
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"[bench replay] {label}: {done}/{total} done ({Interlocked.Read(ref _failed)} failed, {InFlight} in flight), {rate:0} q/s, {median}, t={elapsed:0} s"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
