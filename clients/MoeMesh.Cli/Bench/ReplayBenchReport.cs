using System.Globalization;
using MoeMesh.Monitoring;

namespace MoeMesh.Cli.Bench;

/// <summary>Percentiles and summaries of a sample.</summary>
public static class ReplayStatistics
{
    public static Distribution Describe(IReadOnlyCollection<double> values)
        => values.Count == 0
            ? new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
            : new Distribution(values.Count, values.Average(), Percentiles.NearestRank(values, 0.5), Percentiles.NearestRank(values, 0.9), Percentiles.NearestRank(values, 0.99), values.Max());
}

/// <summary>A sample's size, mean, median, 90th and 99th percentile and maximum.</summary>
public sealed record Distribution(int Count, double Mean, double P50, double P90, double P99, double Max);

/// <summary>What the bench was asked to do.</summary>
public sealed record ReplayBenchSettings
{
    public required int Queries { get; init; }

    public required int Concurrency { get; init; }

    public double? Rate { get; init; }

    public required string Strategy { get; init; }

    public int? K { get; init; }

    public double? BudgetMs { get; init; }

    public double? BudgetJ { get; init; }

    public required double TimeScale { get; init; }

    public required int OutputTokens { get; init; }

    public required int WarmupQueries { get; init; }

    public required int Seed { get; init; }

    public required IReadOnlyList<string> Silos { get; init; }

    /// <summary>The evaluation's default assignment the manifests pin, as <c>device:expert,…;…</c>.</summary>
    public required string Devices { get; init; }

    public required string Data { get; init; }

    public double? KillSiloAfterSeconds { get; init; }

    public int? KillSilo { get; init; }
}

/// <summary>Which silo was killed, when, and what was in flight.</summary>
public sealed record ReplayKill
{
    public required string Silo { get; init; }

    /// <summary>The silo's position in --silos, from 1.</summary>
    public required int Index { get; init; }

    public required int ProcessId { get; init; }

    /// <summary>Seconds after the measured phase started.</summary>
    public required double AtSeconds { get; init; }

    /// <summary>Queries sent but not finished at the kill.</summary>
    public required long InFlight { get; init; }

    /// <summary>Queries sent after the kill, and how many of them were answered.</summary>
    public int SentAfter { get; init; }

    public int AnsweredAfter { get; init; }

    /// <summary>Queries in flight at the kill or sent after it that were answered.</summary>
    public int AnsweredAffected { get; init; }
}

/// <summary>Budget compliance, measured: the client's latency and the runs' reported energy against the budgets.</summary>
public sealed record ReplayBudgets
{
    public double? LatencyMs { get; init; }

    public double? EnergyJoules { get; init; }

    /// <summary>Share of answered queries within the latency budget (1 without one).</summary>
    public double WithinLatency { get; init; }

    public double WithinEnergy { get; init; }

    /// <summary>Share of answered queries within both budgets.</summary>
    public double WithinBoth { get; init; }

    /// <summary>Answered queries whose plan the router marked infeasible (no plan met the budgets).</summary>
    public int InfeasiblePlans { get; init; }

    /// <summary>Share within both among answered queries whose plan was feasible.</summary>
    public double WithinBothFeasible { get; init; }
}

/// <summary>What <c>moemesh eval</c> predicts for the same router, pool, devices, budgets and questions.</summary>
public sealed record ReplayEvalComparison
{
    public required string Router { get; init; }

    public required int K { get; init; }

    /// <summary>The equivalent command.</summary>
    public required string Command { get; init; }

    /// <summary>Eval's accuracy on exactly the questions the bench sent.</summary>
    public double AccuracyOnSent { get; init; }

    /// <summary>Eval's accuracy on the whole test split.</summary>
    public double AccuracyTestSplit { get; init; }

    /// <summary>The mesh's accuracy minus eval's on the same questions, in percentage points.</summary>
    public double GapPoints { get; init; }

    public double MeanPredictedLatencyMs { get; init; }

    public double MeanPredictedEnergyJoules { get; init; }

    public double MeanExperts { get; init; }

    /// <summary>Share of eval's plans for the sent questions that are within the budgets.</summary>
    public double PredictedWithinBudgets { get; init; }

    /// <summary>Share of answered questions where the mesh ran the same set of experts as eval's plan.</summary>
    public double SameExperts { get; init; }

    /// <summary>Share of answered questions where the mesh's answer letter is eval's.</summary>
    public double SameAnswer { get; init; }
}

/// <summary>Everything <c>moemesh bench replay</c> measured.</summary>
public sealed record ReplayBenchReport
{
    public required ReplayBenchSettings Settings { get; init; }

    public required int Sent { get; init; }

    public required int Answered { get; init; }

    /// <summary>Answered ÷ sent.</summary>
    public required double AnsweredShare { get; init; }

    /// <summary>Unanswered queries by reason (the error type).</summary>
    public IReadOnlyDictionary<string, int> Failures { get; init; } = new Dictionary<string, int>();

    /// <summary>One message per failure reason.</summary>
    public IReadOnlyList<string> FailureExamples { get; init; } = [];

    /// <summary>Right answers ÷ sent (an unanswered query counts as wrong).</summary>
    public required double Accuracy { get; init; }

    /// <summary>Answered queries per second over the measured phase.</summary>
    public required double ThroughputQps { get; init; }

    public required double Seconds { get; init; }

    /// <summary>The largest delay between a query's scheduled and actual send (open loop), in milliseconds.</summary>
    public double MaxSendLagMs { get; init; }

    /// <summary>Query latency measured in the client (SDK call to result).</summary>
    public required Distribution LatencyMs { get; init; }

    /// <summary>Query latency as the router measured it.</summary>
    public required Distribution RouterLatencyMs { get; init; }

    /// <summary>The experts' own time on each query's critical path.</summary>
    public required Distribution ExpertMs { get; init; }

    /// <summary>Client latency minus the experts' critical-path time: what the mesh (SDK, gateway, router, grains, messages) adds.</summary>
    public required Distribution OverheadMs { get; init; }

    /// <summary>Router latency minus the experts' critical-path time: what the router and expert grains add.</summary>
    public required Distribution RouterOverheadMs { get; init; }

    /// <summary>The planner's decision time.</summary>
    public required Distribution DecisionMs { get; init; }

    public required double MeanEnergyJoules { get; init; }

    public required double MeanExperts { get; init; }

    public required ReplayBudgets Budgets { get; init; }

    /// <summary>Queries the SDK asked again because the silo running them was lost.</summary>
    public int Reasks { get; init; }

    /// <summary>What the SDK said when it re-asked, one example per distinct message.</summary>
    public IReadOnlyList<string> ReaskExamples { get; init; } = [];

    /// <summary>Expert runs the router moved to another replica or expert.</summary>
    public int Failovers { get; init; }

    /// <summary>How answers were formed, by kind.</summary>
    public IReadOnlyDictionary<string, int> Combinations { get; init; } = new Dictionary<string, int>();

    public ReplayKill? Kill { get; init; }

    public ReplayEvalComparison? Eval { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Summarises the records of the measured phase.</summary>
    public static ReplayBenchReport Build(ReplayBenchSettings settings, IReadOnlyList<ReplayQueryRecord> records, double seconds, double maxLagMs, ReplayKill? kill, IReadOnlyList<string> warnings)
    {
        var answered = records.Where(r => r.Answered).ToList();
        bool WithinLatency(ReplayQueryRecord r) => settings.BudgetMs is not { } b || r.LatencyMs <= b;
        bool WithinEnergy(ReplayQueryRecord r) => settings.BudgetJ is not { } b || r.EnergyJoules <= b;
        double Share(IReadOnlyCollection<ReplayQueryRecord> set, Func<ReplayQueryRecord, bool> test) => set.Count == 0 ? 0 : set.Count(test) / (double)set.Count;
        var feasible = answered.Where(r => r.PlanFeasible).ToList();
        var failures = records.Where(r => !r.Answered).GroupBy(r => Reason(r.Failure)).OrderByDescending(g => g.Count()).ToList();

        if (kill is not null)
        {
            var after = records.Where(r => r.SentAtSeconds >= kill.AtSeconds).ToList();
            var affected = records.Where(r => r.SentAtSeconds >= kill.AtSeconds || r.SentAtSeconds + (r.LatencyMs / 1000) >= kill.AtSeconds).ToList();
            kill = kill with { SentAfter = after.Count, AnsweredAfter = after.Count(r => r.Answered), AnsweredAffected = affected.Count(r => r.Answered) };
        }

        return new ReplayBenchReport
        {
            Settings = settings,
            Sent = records.Count,
            Answered = answered.Count,
            AnsweredShare = records.Count == 0 ? 0 : answered.Count / (double)records.Count,
            Failures = failures.ToDictionary(g => g.Key, g => g.Count()),
            FailureExamples = failures.Select(g => g.First().Failure ?? g.Key).ToList(),
            Accuracy = records.Count == 0 ? 0 : answered.Count(r => r.Correct) / (double)records.Count,
            ThroughputQps = seconds > 0 ? answered.Count / seconds : 0,
            Seconds = seconds,
            MaxSendLagMs = maxLagMs,
            LatencyMs = ReplayStatistics.Describe(answered.Select(r => r.LatencyMs).ToList()),
            RouterLatencyMs = ReplayStatistics.Describe(answered.Select(r => r.RouterLatencyMs).ToList()),
            ExpertMs = ReplayStatistics.Describe(answered.Select(r => r.ExpertMs).ToList()),
            OverheadMs = ReplayStatistics.Describe(answered.Select(r => Math.Max(0, r.LatencyMs - r.ExpertMs)).ToList()),
            RouterOverheadMs = ReplayStatistics.Describe(answered.Select(r => Math.Max(0, r.RouterLatencyMs - r.ExpertMs)).ToList()),
            DecisionMs = ReplayStatistics.Describe(answered.Select(r => r.PlanDecisionMs).ToList()),
            MeanEnergyJoules = answered.Count == 0 ? 0 : answered.Average(r => r.EnergyJoules),
            MeanExperts = answered.Count == 0 ? 0 : answered.Average(r => r.Experts.Count),
            Budgets = new ReplayBudgets
            {
                LatencyMs = settings.BudgetMs,
                EnergyJoules = settings.BudgetJ,
                WithinLatency = Share(answered, WithinLatency),
                WithinEnergy = Share(answered, WithinEnergy),
                WithinBoth = Share(answered, r => WithinLatency(r) && WithinEnergy(r)),
                InfeasiblePlans = answered.Count - feasible.Count,
                WithinBothFeasible = Share(feasible, r => WithinLatency(r) && WithinEnergy(r)),
            },
            Reasks = records.Sum(r => r.Reasks),
            ReaskExamples = records.Select(r => r.ReaskReason).OfType<string>().Distinct(StringComparer.Ordinal).Take(5).ToList(),
            Failovers = records.Sum(r => r.Failovers),
            Combinations = answered.GroupBy(r => r.Combination ?? "unknown").OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count()),
            Kill = kill,
            Warnings = warnings,
        };
    }

    private static string Reason(string? failure)
    {
        if (string.IsNullOrEmpty(failure))
        {
            return "unknown";
        }

        var colon = failure.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? failure[..colon] : failure;
    }

    /// <summary>The report for people.</summary>
    public void Write(TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        var s = Settings;
        output.WriteLine(string.Create(c, $"mesh replay: {Sent} test questions, {(s.Rate is { } rate ? $"{rate:0.#} q/s open loop, at most {s.Concurrency} in flight" : $"{s.Concurrency} in flight")}, strategy {s.Strategy}{(s.K is { } k ? $", k = {k}" : "")}, time scale {s.TimeScale:0.###}"));
        output.WriteLine($"silos: {string.Join(", ", s.Silos)}; experts: {s.Devices}");
        if (s.BudgetMs is not null || s.BudgetJ is not null)
        {
            output.WriteLine(string.Create(c, $"budgets: {(s.BudgetMs is { } ms ? $"{ms:0.#} ms" : "no latency budget")}, {(s.BudgetJ is { } j ? $"{j:0.#} J" : "no energy budget")}"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(c, $"answered / sent        {Answered} / {Sent} = {AnsweredShare:0.0000}"));
        foreach (var (reason, count) in Failures)
        {
            output.WriteLine(string.Create(c, $"  failed: {count} × {reason}"));
        }

        output.WriteLine(string.Create(c, $"accuracy               {Accuracy:0.0000}"));
        output.WriteLine(string.Create(c, $"throughput             {ThroughputQps:0.0} queries/s over {Seconds:0.0} s{(s.Rate is not null ? $" (largest send lag {MaxSendLagMs:0.0} ms)" : "")}"));
        output.WriteLine("                        p50        p90        p99       mean        max   (ms)");
        Row(output, "latency (client)", LatencyMs);
        Row(output, "latency (router)", RouterLatencyMs);
        Row(output, "experts' own time", ExpertMs);
        Row(output, "overhead (client)", OverheadMs);
        Row(output, "overhead (router)", RouterOverheadMs);
        Row(output, "planner decision", DecisionMs);
        output.WriteLine(string.Create(c, $"energy                 {MeanEnergyJoules:0.0} J per query, {MeanExperts:0.00} experts per query"));
        output.WriteLine(string.Create(c, $"within budgets         latency {Budgets.WithinLatency:0.0000}, energy {Budgets.WithinEnergy:0.0000}, both {Budgets.WithinBoth:0.0000} (measured; {Budgets.InfeasiblePlans} infeasible plans)"));
        output.WriteLine($"answers formed by      {string.Join(", ", Combinations.Select(p => $"{p.Key} {p.Value}"))}");
        if (Reasks > 0 || Failovers > 0 || Kill is not null)
        {
            output.WriteLine($"recovery               {Reasks} re-asked by the SDK, {Failovers} expert runs failed over");
        }

        if (Kill is { } kill)
        {
            output.WriteLine(string.Create(c,
                $"killed silo            #{kill.Index} {kill.Silo} (pid {kill.ProcessId}) at {kill.AtSeconds:0.0} s with {kill.InFlight} queries in flight; {kill.AnsweredAfter} of {kill.SentAfter} sent after it answered"));
        }

        if (Eval is { } eval)
        {
            output.WriteLine();
            output.WriteLine($"moemesh eval, same router, pool, devices, budgets and questions: {eval.Command}");
            output.WriteLine(string.Create(c, $"  eval accuracy        {eval.AccuracyOnSent:0.0000} on these questions ({eval.AccuracyTestSplit:0.0000} on the whole test split); mesh − eval = {eval.GapPoints:+0.00;-0.00;0.00} points"));
            output.WriteLine(string.Create(c, $"  eval plans           {eval.MeanPredictedLatencyMs:0} ms, {eval.MeanPredictedEnergyJoules:0.0} J, {eval.MeanExperts:0.00} experts on average; {eval.PredictedWithinBudgets:0.0000} within the budgets"));
            output.WriteLine(string.Create(c, $"  agreement            same experts {eval.SameExperts:0.0000}, same answer {eval.SameAnswer:0.0000}"));
        }

        foreach (var warning in Warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }

    private static void Row(TextWriter output, string name, Distribution d)
        => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-20} {d.P50,10:0.00} {d.P90,10:0.00} {d.P99,10:0.00} {d.Mean,10:0.00} {d.Max,10:0.00}"));
}
