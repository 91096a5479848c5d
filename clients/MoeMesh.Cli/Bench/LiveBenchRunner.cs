using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MoeMesh.Catalog;
using MoeMesh.Client;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Queries;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Cli.Bench;

/// <summary>What <c>moemesh bench live</c> sends: how many queries, their shapes, budgets and concurrency.</summary>
public sealed record LiveBenchWorkload
{
    public int Queries { get; init; } = 200;

    public int Warmup { get; init; } = 24;

    public int MinPromptWords { get; init; } = 8;

    public int MaxPromptWords { get; init; } = 160;

    public int MinOutputTokens { get; init; } = 8;

    public int MaxOutputTokens { get; init; } = 128;

    public double MinBudgetFactor { get; init; } = 0.5;

    public double MaxBudgetFactor { get; init; } = 3;

    /// <summary>Concurrency levels; the queries are split evenly among them, run one level after another.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 2, 4, 8];

    public int Seed { get; init; } = 1;

    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Problems with the figures, each naming its option; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Queries < 1)
        {
            problems.Add($"--queries must be at least 1, got {Queries}");
        }

        if (Warmup < 0)
        {
            problems.Add($"--warmup must be 0 or more, got {Warmup}");
        }

        if (MinPromptWords < 1 || MaxPromptWords < MinPromptWords)
        {
            problems.Add($"--prompt-words must be a range of at least 1 word, got {MinPromptWords}..{MaxPromptWords}");
        }

        if (MinOutputTokens < 1 || MaxOutputTokens < MinOutputTokens)
        {
            problems.Add($"--output-tokens must be a range of at least 1 token, got {MinOutputTokens}..{MaxOutputTokens}");
        }

        if (!(MinBudgetFactor > 0) || !(MaxBudgetFactor >= MinBudgetFactor) || !double.IsFinite(MaxBudgetFactor))
        {
            problems.Add($"--budget-factor must be a positive range, got {MinBudgetFactor}..{MaxBudgetFactor}");
        }

        if (Concurrency.Count == 0 || Concurrency.Any(c => c is < 1 or > 64))
        {
            problems.Add($"--concurrency must list levels between 1 and 64, got {string.Join(",", Concurrency)}");
        }

        return problems;
    }
}

/// <summary>One query of the bench: what was asked, what the plan predicted, what happened.</summary>
public sealed record LiveQueryRecord
{
    public int Index { get; init; }

    public required string Expert { get; init; }

    public int Concurrency { get; init; }

    public int PromptWords { get; init; }

    public int MaxTokens { get; init; }

    /// <summary>The budget sent, in milliseconds: the drawn factor times the bench's estimate of the plan's prediction.</summary>
    public double BudgetMs { get; init; }

    /// <summary>The budget over what the plan actually predicted.</summary>
    public double BudgetOverPrediction { get; init; }

    public bool Answered { get; init; }

    public string? Failure { get; init; }

    public bool Feasible { get; init; }

    public double PredictedLatencyMs { get; init; }

    public double MeasuredLatencyMs { get; init; }

    public double PredictedEnergyJoules { get; init; }

    public double MeasuredEnergyJoules { get; init; }

    public bool EnergyEstimated { get; init; }

    public bool Met { get; init; }

    public int GeneratedTokens { get; init; }

    public FinishReason? FinishReason { get; init; }

    /// <summary>Queries of the bench in flight when this one was sent.</summary>
    public int OthersAtSend { get; init; }

    /// <summary>The silo that ran the query's expert.</summary>
    public string? Silo { get; init; }

    /// <summary>Prompt tokens the engine read (after templating).</summary>
    public int PromptTokens { get; init; }

    /// <summary>The engine's own time for the run, queue included, in milliseconds.</summary>
    public double EngineMs { get; init; }

    /// <summary>Time the run waited for a free sequence, in milliseconds.</summary>
    public double QueueMs { get; init; }

    /// <summary>Time to the first token, queue included, in milliseconds.</summary>
    public double FirstTokenMs { get; init; }

    /// <summary>The most sequences the engine decoded together with this one in one step.</summary>
    public int BatchSize { get; init; }
}

/// <summary>
/// Sends the bench's queries through the SDK: each asks one expert (drawn at random) a prompt of a
/// random number of words for a random number of tokens, under a latency budget drawn between the
/// factors times what the router is expected to predict (the replicas' published calibrations, plus
/// what the bench has seen the router add); closed loop at each concurrency level in turn.
/// </summary>
public sealed class LiveBenchRunner(IMoeMeshClient client, LiveBenchWorkload workload, TextWriter progress)
{
    private static readonly string[] Words =
    [
        "river", "stone", "light", "market", "garden", "engine", "window", "number", "music", "forest", "paper", "orbit", "signal", "winter",
        "letter", "bridge", "planet", "silver", "doctor", "summer", "theory", "island", "yellow", "energy", "circle", "animal", "history",
    ];

    // What the router's prediction was over the bench's own estimate from the published calibrations, per expert.
    private readonly ConcurrentDictionary<string, double> _ratio = new(StringComparer.Ordinal);
    private CatalogSnapshot _catalog = new();

    /// <summary>Runs <paramref name="count"/> queries at each concurrency level's share; returns their records in send order.</summary>
    public async Task<IReadOnlyList<LiveQueryRecord>> RunAsync(int count, string label, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var experts = (await client.GetStatusAsync(cancellationToken)).Replicas
            .Where(r => r.State == ReplicaState.Ready).Select(r => r.Replica.ExpertId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (experts.Count == 0)
        {
            throw new InvalidOperationException("No expert replica is ready on the mesh.");
        }

        var records = new List<LiveQueryRecord>();
        var levels = workload.Concurrency;
        for (var level = 0; level < levels.Count; level++)
        {
            var share = (count / levels.Count) + (level < count % levels.Count ? 1 : 0);
            var planned = Enumerable.Range(0, share).Select(i => Draw(records.Count + i, experts, levels[level], random)).ToList();
            await progress.WriteLineAsync($"[bench live] {label}: {share} queries at concurrency {levels[level]}");
            records.AddRange(await RunLevelAsync(planned, levels[level], cancellationToken));
        }

        return records;
    }

    private async Task<IReadOnlyList<LiveQueryRecord>> RunLevelAsync(List<Planned> planned, int concurrency, CancellationToken cancellationToken)
    {
        var results = new LiveQueryRecord[planned.Count];
        var next = -1;
        var inFlight = 0;
        _catalog = await client.GetStatusAsync(cancellationToken);
        var refreshed = Stopwatch.GetTimestamp();
        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < planned.Count)
            {
                if (Stopwatch.GetElapsedTime(refreshed) > TimeSpan.FromSeconds(1))
                {
                    refreshed = Stopwatch.GetTimestamp();
                    _catalog = await client.GetStatusAsync(cancellationToken);
                }

                var others = Interlocked.Increment(ref inFlight) - 1;
                try
                {
                    results[i] = await AskAsync(planned[i], others, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkerAsync, cancellationToken)));
        return results;
    }

    private async Task<LiveQueryRecord> AskAsync(Planned q, int others, CancellationToken cancellationToken)
    {
        var engine = EngineEstimate(q, others);
        var budget = Math.Max(1, q.Factor * engine * _ratio.GetValueOrDefault(q.Expert, 1));
        var record = new LiveQueryRecord { Index = q.Index, Expert = q.Expert, Concurrency = q.Concurrency, PromptWords = q.PromptWords, MaxTokens = q.MaxTokens, BudgetMs = budget, OthersAtSend = others };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(workload.QueryTimeout);
        try
        {
            var result = await client.AskAsync(q.Prompt, new QueryOptions
            {
                Experts = [q.Expert],
                K = 1,
                LatencyBudgetMs = budget,
                MaxTokens = q.MaxTokens,
                Sampling = SamplingOptions.Greedy,
            }, timeout.Token);
            var plan = result.Plan;
            var seen = Math.Clamp(plan.PredictedLatencyMs / engine, 0.05, 20);
            _ratio.AddOrUpdate(q.Expert, seen, (_, old) => Math.Exp((Math.Log(old) * 0.7) + (Math.Log(seen) * 0.3)));
            var runs = result.Runs.Where(r => r.Metrics is not null).ToList();
            var last = runs.LastOrDefault();
            return record with
            {
                Silo = last?.Silo,
                PromptTokens = last?.Metrics?.PromptTokens ?? 0,
                EngineMs = last?.Metrics?.TotalMs ?? 0,
                QueueMs = last?.Metrics?.QueueMs ?? 0,
                FirstTokenMs = last?.Metrics?.TimeToFirstTokenMs ?? 0,
                BatchSize = last?.Metrics?.BatchSize ?? 0,
                Answered = true,
                Feasible = plan.Feasible,
                PredictedLatencyMs = plan.PredictedLatencyMs,
                MeasuredLatencyMs = result.LatencyMs,
                PredictedEnergyJoules = plan.PredictedEnergyJoules,
                MeasuredEnergyJoules = result.EnergyJoules,
                EnergyEstimated = result.Runs.Any(r => EnergyMeters.IsEstimated(r.EnergyMeter)),
                BudgetOverPrediction = plan.PredictedLatencyMs > 0 ? budget / plan.PredictedLatencyMs : double.PositiveInfinity,
                Met = result.LatencyMs <= budget,
                GeneratedTokens = runs.Sum(r => r.Metrics!.GeneratedTokens),
                FinishReason = runs.LastOrDefault()?.Metrics?.FinishReason,
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return record with { Failure = $"{ex.GetType().Name}: {ex.Message}" };
        }
    }

    /// <summary>The engine time the best ready replica's published calibration predicts; the router's own view differs by a ratio learned per expert.</summary>
    private double EngineEstimate(Planned q, int others)
    {
        return _catalog.Replicas
            .Where(r => r.Replica.ExpertId == q.Expert && r.State == ReplicaState.Ready && r.Calibration is not null)
            .Select(r => EngineCalibrator.PredictMs(
                r.Calibration!,
                new RequestShape((int)Math.Ceiling(q.EstimatedPromptTokens * r.Calibration!.PromptTokenRatio), q.MaxTokens),
                others))
            .DefaultIfEmpty(100)
            .Min() is var ms && ms > 1 ? ms : 1;
    }

    private Planned Draw(int index, IReadOnlyList<string> experts, int concurrency, Random random)
    {
        var words = random.Next(workload.MinPromptWords, workload.MaxPromptWords + 1);
        var prompt = new StringBuilder("Continue this list:");
        for (var w = 0; w < words; w++)
        {
            prompt.Append(' ').Append(Words[random.Next(Words.Length)]);
        }

        var text = prompt.ToString();
        var factor = workload.MinBudgetFactor + (random.NextDouble() * (workload.MaxBudgetFactor - workload.MinBudgetFactor));
        return new Planned(
            index,
            experts[random.Next(experts.Count)],
            text,
            words,
            EngineCalibrator.EstimatePromptTokens(GenerationRequest.FromPrompt(text)),
            random.Next(workload.MinOutputTokens, workload.MaxOutputTokens + 1),
            factor,
            concurrency);
    }

    private sealed record Planned(int Index, string Expert, string Prompt, int PromptWords, int EstimatedPromptTokens, int MaxTokens, double Factor, int Concurrency);
}
