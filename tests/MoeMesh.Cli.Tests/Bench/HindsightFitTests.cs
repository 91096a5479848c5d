using MoeMesh.Cli.Bench;
using MoeMesh.Generation;

namespace MoeMesh.Cli.Tests.Bench;

public sealed class HindsightFitTests
{
    [Fact]
    public void Latencies_that_follow_the_fitted_form_leave_no_error()
    {
        var errors = HindsightFit.LatencyErrors(Records(noise: _ => 1));
        Assert.Equal(60, errors.Count);
        Assert.All(errors, e => Assert.InRange(e, 0, 1e-6));
    }

    [Fact]
    public void Variation_the_features_cannot_explain_is_what_is_left()
    {
        // Every other run 30 % slower than the form: nothing the fit sees says which.
        var errors = HindsightFit.LatencyErrors(Records(noise: i => i % 2 == 0 ? 1.3 : 1));
        var median = errors.Order().ElementAt(errors.Count / 2);
        Assert.InRange(median, 0.1, 0.2);
    }

    [Fact]
    public void Runs_cut_short_and_too_few_solo_runs_fit_nothing()
    {
        var records = Records(noise: _ => 1);
        Assert.Empty(HindsightFit.LatencyErrors(records.Where(r => r.Concurrency > 1 || r.Index < HindsightFit.MinSoloRuns - 1).ToList()));
        var cut = records.Select(r => r.Index % 3 == 0 ? r with { FinishReason = FinishReason.Budget, MeasuredLatencyMs = 1 } : r).ToList();
        Assert.All(HindsightFit.LatencyErrors(cut), e => Assert.InRange(e, 0, 1e-6));
    }

    [Fact]
    public void The_bench_report_carries_the_floor()
    {
        var report = LiveBenchReport.From(Records(noise: i => i % 2 == 0 ? 1.3 : 1), "moemesh bench live", "Release");
        Assert.InRange(report.HindsightLatencyErrorMedian, 0.1, 0.2);
        Assert.True(report.HindsightLatencyErrorP90 >= report.HindsightLatencyErrorMedian);
        Assert.Contains("host's variation", report.ToText(), StringComparison.Ordinal);
    }

    /// <summary>20 solo runs, then 40 under load: 10 ms + 0.2 ms a prompt token + 0.5 ms a generated one, slowed by e^(0.3 × batched + 0.1 × others).</summary>
    private static List<LiveQueryRecord> Records(Func<int, double> noise)
    {
        var records = new List<LiveQueryRecord>();
        for (var i = 0; i < 60; i++)
        {
            var prompt = 50 + ((i * 37) % 600);
            var generated = 5 + ((i * 53) % 120);
            var concurrency = i < 20 ? 1 : 4;
            var batch = concurrency == 1 ? 1 : 1 + (i % 3);
            var others = concurrency == 1 ? 0 : 3;
            var alone = 10 + (0.2 * prompt) + (0.5 * generated);
            var latency = alone * Math.Exp((0.3 * (batch - 1)) + (0.1 * (others - (batch - 1)))) * noise(i);
            records.Add(new LiveQueryRecord
            {
                Index = i,
                Expert = "demo",
                Concurrency = concurrency,
                Answered = true,
                Feasible = true,
                PromptTokens = prompt,
                GeneratedTokens = generated,
                BatchSize = batch,
                OthersAtSend = others,
                FinishReason = FinishReason.MaxTokens,
                MeasuredLatencyMs = latency,
                PredictedLatencyMs = alone,
                BudgetMs = 3 * alone,
                BudgetOverPrediction = 3,
            });
        }

        return records;
    }
}
