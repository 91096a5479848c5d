using MoeMesh.Monitoring;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Monitoring;

/// <summary>
/// Keeps the newest decisions and each silo's latest telemetry in memory, and derives per-expert
/// figures and chart samples from them on request.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
internal sealed class MeshMonitorGrain(TimeProvider time) : Grain, IMeshMonitorGrain
{
    internal const int DecisionWindow = 2000;
    internal static readonly TimeSpan SampleWidth = TimeSpan.FromSeconds(5);
    internal const int SampleCount = 120;

    private readonly LinkedList<DecisionRecord> _decisions = new();
    private readonly Dictionary<string, SiloTelemetry> _silos = new(StringComparer.Ordinal);
    private long _sequence;

    public Task RecordDecisionAsync(DecisionRecord decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Add(decision);
        return Task.CompletedTask;
    }

    public Task RecordDecisionsAsync(IReadOnlyList<DecisionRecord> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var decision in decisions)
        {
            if (decision is not null)
            {
                Add(decision);
            }
        }

        return Task.CompletedTask;
    }

    public Task ReportSiloAsync(SiloTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        _silos[telemetry.Silo] = telemetry;
        return Task.CompletedTask;
    }

    public Task<MeshOverview> GetOverviewAsync(int recentDecisions = 50)
    {
        var now = time.GetUtcNow();
        return Task.FromResult(new MeshOverview
        {
            Silos = _silos.Values.OrderBy(s => s.Silo, StringComparer.Ordinal).ToList(),
            Experts = ExpertFigures(),
            RecentDecisions = _decisions.Reverse().Take(Math.Clamp(recentDecisions, 0, DecisionWindow)).ToList(),
            Samples = Samples(now),
            LastSequence = _sequence,
        });
    }

    public Task<IReadOnlyList<DecisionRecord>> GetDecisionsAfterAsync(long sequence, int max = 100)
    {
        IReadOnlyList<DecisionRecord> newer = _decisions
            .Where(d => d.Sequence > sequence)
            .Take(Math.Clamp(max, 1, DecisionWindow))
            .ToList();
        return Task.FromResult(newer);
    }

    private void Add(DecisionRecord decision)
    {
        _decisions.AddLast(decision with { Sequence = ++_sequence });
        while (_decisions.Count > DecisionWindow)
        {
            _decisions.RemoveFirst();
        }
    }

    private List<ExpertStats> ExpertFigures()
    {
        var resident = _silos.Values
            .SelectMany(s => s.ResidentExperts.Select(r => (Expert: r.Split('/')[0], s.Silo)))
            .GroupBy(x => x.Expert, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Silo).Distinct().ToList(), StringComparer.Ordinal);
        var runs = _decisions.SelectMany(d => d.Runs).GroupBy(r => r.ExpertId, StringComparer.Ordinal);
        var stats = new List<ExpertStats>();
        foreach (var group in runs)
        {
            var completed = group.Where(r => r.Outcome == RunOutcome.Completed).ToList();
            var latencies = completed.Select(r => r.LatencyMs).Order().ToList();
            var tokens = completed.Sum(r => (double)(r.Metrics?.GeneratedTokens ?? 0));
            var decoding = completed.Where(r => r.Metrics is { DecodeTokensPerSecond: > 0 }).Select(r => r.Metrics!.DecodeTokensPerSecond).ToList();
            stats.Add(new ExpertStats
            {
                ExpertId = group.Key,
                Runs = group.Count(),
                Failures = group.Count(r => r.Outcome == RunOutcome.Failed),
                P50LatencyMs = LatencyOrZero(latencies, 0.50),
                P99LatencyMs = LatencyOrZero(latencies, 0.99),
                TokensPerSecond = decoding.Count == 0 ? 0 : decoding.Average(),
                JoulesPerToken = tokens <= 0 ? 0 : completed.Sum(r => r.EnergyJoules) / tokens,
                ResidentOn = resident.GetValueOrDefault(group.Key) ?? [],
            });
        }

        foreach (var (expert, silos) in resident)
        {
            if (stats.All(s => s.ExpertId != expert))
            {
                stats.Add(new ExpertStats { ExpertId = expert, ResidentOn = silos });
            }
        }

        return stats.OrderBy(s => s.ExpertId, StringComparer.Ordinal).ToList();
    }

    private List<MeshSample> Samples(DateTimeOffset now)
    {
        var width = SampleWidth.Ticks;
        var newestBucket = now.UtcTicks / width;
        var oldestBucket = newestBucket - SampleCount + 1;
        var byBucket = _decisions
            .Where(d => d.At.UtcTicks / width >= oldestBucket)
            .GroupBy(d => d.At.UtcTicks / width)
            .ToDictionary(g => g.Key, g => g.ToList());
        var samples = new List<MeshSample>(SampleCount);
        for (var bucket = oldestBucket; bucket <= newestBucket; bucket++)
        {
            var at = new DateTimeOffset(bucket * width, TimeSpan.Zero);
            if (!byBucket.TryGetValue(bucket, out var decisions))
            {
                samples.Add(new MeshSample { At = at });
                continue;
            }

            samples.Add(new MeshSample
            {
                At = at,
                Queries = decisions.Count,
                QueriesPerSecond = decisions.Count / SampleWidth.TotalSeconds,
                MeanLatencyMs = decisions.Average(d => d.MeasuredLatencyMs),
                MeanEnergyJoules = decisions.Average(d => d.MeasuredEnergyJoules),
                BudgetViolations = decisions.Count(d => !d.BudgetMet),
            });
        }

        return samples;
    }

    // An expert whose runs all failed has no latency; the dashboard's JSON carries no NaN, so it shows 0.
    private static double LatencyOrZero(List<double> latencies, double p)
        => latencies.Count == 0 ? 0 : Percentiles.NearestRank(latencies, p);
}
