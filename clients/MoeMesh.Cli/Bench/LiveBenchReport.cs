using MoeMesh.Monitoring;
using System.Globalization;
using System.Text;
using MoeMesh.Generation;

namespace MoeMesh.Cli.Bench;

/// <summary>Prediction error and budget compliance at one concurrency level.</summary>
public sealed record LiveBenchLevel(int Concurrency, int Answered, double LatencyErrorMedian, double LatencyErrorP90, double EnergyErrorMedian, double MetShareOfFeasible);

/// <summary>
/// What <c>moemesh bench live</c> measured: how far the plans' predictions were from what the
/// queries measured, and whether queries planned feasible met their budgets in fact.
/// </summary>
public sealed record LiveBenchReport
{
    public required string Command { get; init; }

    public required string Build { get; init; }

    public int Queries { get; init; }

    public int Answered { get; init; }

    public int Failed { get; init; }

    /// <summary>
    /// Median of |predicted − measured| / measured latency. A plan found infeasible still runs, and its
    /// engine stops at the deadline, so its prediction is capped at the budget (energy scaled alike);
    /// <see cref="LatencyErrorMedianUncapped"/> leaves it as the plan stated it.
    /// </summary>
    public double LatencyErrorMedian { get; init; }

    public double LatencyErrorP90 { get; init; }

    /// <summary>Median of |predicted − measured| / measured energy.</summary>
    public double EnergyErrorMedian { get; init; }

    public double EnergyErrorP90 { get; init; }

    /// <summary>Latency error with every plan's prediction as stated, infeasible ones included.</summary>
    public double LatencyErrorMedianUncapped { get; init; }

    public double LatencyErrorP90Uncapped { get; init; }

    /// <summary>
    /// Median latency error left when the run's own latencies are fitted after the fact (see
    /// <see cref="HindsightFit"/>): what the host's variation alone costs any prediction.
    /// </summary>
    public double HindsightLatencyErrorMedian { get; init; }

    public double HindsightLatencyErrorP90 { get; init; }

    /// <summary>True when the energy is the device-profile model's estimate (no hardware meter).</summary>
    public bool EnergyEstimated { get; init; }

    /// <summary>Share of answered queries whose plan was feasible under its budget.</summary>
    public double FeasibleShare { get; init; }

    /// <summary>Share of answered queries the router found infeasible (it then runs the cheapest plan, marked so).</summary>
    public double RefusedShare { get; init; }

    /// <summary>Of the queries planned feasible with a budget of at least 1.2 × the plan's prediction, the share that met it.</summary>
    public double MetShareOfFeasible { get; init; }

    /// <summary>How many queries <see cref="MetShareOfFeasible"/> counts.</summary>
    public int FeasibleWithMargin { get; init; }

    /// <summary>Of all queries planned feasible, the share that met their budget.</summary>
    public double MetShareOfAllFeasible { get; init; }

    /// <summary>The largest measured latency over budget among queries planned feasible (1 = exactly on budget).</summary>
    public double WorstOverrun { get; init; }

    /// <summary>Share of answered queries whose expert stopped at its deadline.</summary>
    public double StoppedByBudgetShare { get; init; }

    public double LatencyMedianMs { get; init; }

    public IReadOnlyList<LiveBenchLevel> Levels { get; init; } = [];

    public IReadOnlyList<string> Failures { get; init; } = [];

    public static LiveBenchReport From(IReadOnlyList<LiveQueryRecord> records, string command, string build)
    {
        var answered = records.Where(r => r.Answered).ToList();
        var feasible = answered.Where(r => r.Feasible).ToList();
        var margin = feasible.Where(r => r.BudgetOverPrediction >= 1.2).ToList();
        var (latencyMedian, latencyP90) = Errors(answered, r => (Capped(r) * r.PredictedLatencyMs, r.MeasuredLatencyMs));
        var (energyMedian, energyP90) = Errors(answered, r => (Capped(r) * r.PredictedEnergyJoules, r.MeasuredEnergyJoules));
        var (uncappedMedian, uncappedP90) = Errors(answered, r => (r.PredictedLatencyMs, r.MeasuredLatencyMs));
        var hindsight = HindsightFit.LatencyErrors(records);
        return new LiveBenchReport
        {
            Command = command,
            Build = build,
            Queries = records.Count,
            Answered = answered.Count,
            Failed = records.Count - answered.Count,
            LatencyErrorMedian = latencyMedian,
            LatencyErrorP90 = latencyP90,
            EnergyErrorMedian = energyMedian,
            EnergyErrorP90 = energyP90,
            LatencyErrorMedianUncapped = uncappedMedian,
            LatencyErrorP90Uncapped = uncappedP90,
            HindsightLatencyErrorMedian = Quantile(hindsight, 0.5),
            HindsightLatencyErrorP90 = Quantile(hindsight, 0.9),
            EnergyEstimated = answered.Any(r => r.EnergyEstimated),
            FeasibleShare = Share(answered, r => r.Feasible),
            RefusedShare = Share(answered, r => !r.Feasible),
            MetShareOfFeasible = Share(margin, r => r.Met),
            FeasibleWithMargin = margin.Count,
            MetShareOfAllFeasible = Share(feasible, r => r.Met),
            WorstOverrun = feasible.Count == 0 ? double.NaN : feasible.Max(r => r.MeasuredLatencyMs / r.BudgetMs),
            StoppedByBudgetShare = Share(answered, r => r.FinishReason == FinishReason.Budget),
            LatencyMedianMs = Quantile(answered.Select(r => r.MeasuredLatencyMs).ToList(), 0.5),
            Levels = answered.GroupBy(r => r.Concurrency).OrderBy(g => g.Key).Select(g =>
            {
                var (lm, lp) = Errors(g.ToList(), r => (Capped(r) * r.PredictedLatencyMs, r.MeasuredLatencyMs));
                var (em, _) = Errors(g.ToList(), r => (Capped(r) * r.PredictedEnergyJoules, r.MeasuredEnergyJoules));
                return new LiveBenchLevel(g.Key, g.Count(), lm, lp, em, Share(g.Where(r => r.Feasible && r.BudgetOverPrediction >= 1.2).ToList(), r => r.Met));
            }).ToList(),
            Failures = records.Where(r => r.Failure is not null).Select(r => r.Failure!).Distinct().Take(10).ToList(),
        };
    }

    /// <summary>The report as people read it.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"bench live ({Build}): {Answered}/{Queries} queries answered, median latency {LatencyMedianMs:0.#} ms");
        text.AppendLine(c, $"  latency error |pred − meas| / meas: median {LatencyErrorMedian:0.000}, p90 {LatencyErrorP90:0.000} (infeasible plans' predictions as stated: median {LatencyErrorMedianUncapped:0.000}, p90 {LatencyErrorP90Uncapped:0.000})");
        if (HindsightLatencyErrorMedian > 0)
        {
            text.AppendLine(c, $"  latency error left by a fit of this run's own latencies, batches known (the host's variation): median {HindsightLatencyErrorMedian:0.000}, p90 {HindsightLatencyErrorP90:0.000}");
        }

        text.AppendLine(c, $"  energy error{(EnergyEstimated ? " (estimated: device-profile model meter)" : "")}: median {EnergyErrorMedian:0.000}, p90 {EnergyErrorP90:0.000}");
        text.AppendLine(c, $"  planned feasible {FeasibleShare:P1}; refused as infeasible {RefusedShare:P1}");
        text.AppendLine(c, $"  met their budget: {MetShareOfFeasible:P1} of {FeasibleWithMargin} feasible with budget ≥ 1.2× prediction; {MetShareOfAllFeasible:P1} of all feasible");
        text.AppendLine(c, $"  worst overrun of a feasible plan: {WorstOverrun:0.00}× budget; experts stopped at their deadline: {StoppedByBudgetShare:P1}");
        foreach (var level in Levels)
        {
            text.AppendLine(c, $"  concurrency {level.Concurrency}: {level.Answered} answered, latency error median {level.LatencyErrorMedian:0.000} p90 {level.LatencyErrorP90:0.000}, energy error median {level.EnergyErrorMedian:0.000}, met {level.MetShareOfFeasible:P1}");
        }

        foreach (var failure in Failures)
        {
            text.AppendLine(c, $"  failure: {failure}");
        }

        return text.ToString();
    }

    private static (double Median, double P90) Errors(IReadOnlyList<LiveQueryRecord> records, Func<LiveQueryRecord, (double Predicted, double Measured)> pick)
    {
        var errors = records.Select(pick).Where(p => p.Measured > 0).Select(p => Math.Abs(p.Predicted - p.Measured) / p.Measured).ToList();
        return (Quantile(errors, 0.5), Quantile(errors, 0.9));
    }

    /// <summary>The share of an infeasible plan's predicted run that fits its budget (1 for a feasible plan).</summary>
    private static double Capped(LiveQueryRecord r)
        => r.Feasible || r.PredictedLatencyMs <= 0 ? 1 : Math.Min(1, r.BudgetMs / r.PredictedLatencyMs);

    private static double Share(IReadOnlyList<LiveQueryRecord> records, Func<LiveQueryRecord, bool> predicate)
        => records.Count == 0 ? double.NaN : records.Count(predicate) / (double)records.Count;

    /// <summary>A nearest-rank percentile, 0 for no samples (the JSON report has no NaN).</summary>
    private static double Quantile(IReadOnlyCollection<double> samples, double quantile)
        => samples.Count == 0 ? 0 : Percentiles.NearestRank(samples, quantile);
}
