using MoeMesh.Cli.Bench;
using MoeMesh.Generation;

namespace MoeMesh.Cli.Tests.Bench;

public sealed class BenchLiveCommandTests
{
    [Theory]
    [InlineData("--queries", "0", "--queries")]
    [InlineData("--concurrency", "1,x", "--concurrency")]
    [InlineData("--budget-factor", "3..1", "--budget-factor")]
    [InlineData("--output-tokens", "8", "--output-tokens")]
    public async Task Impossible_options_are_bad_input_before_any_silo_starts(string option, string value, string named)
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "live", option, value);

        Assert.Equal(2, code);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.DoesNotContain("started silo", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_report_counts_errors_feasibility_and_budgets_as_the_issue_defines_them()
    {
        LiveQueryRecord Record(double predicted, double measured, double budget, bool feasible = true, double joules = 1) => new()
        {
            Expert = "e",
            Concurrency = 1,
            Answered = true,
            Feasible = feasible,
            PredictedLatencyMs = predicted,
            MeasuredLatencyMs = measured,
            BudgetMs = budget,
            BudgetOverPrediction = budget / predicted,
            Met = measured <= budget,
            PredictedEnergyJoules = joules,
            MeasuredEnergyJoules = 1,
            EnergyEstimated = true,
            FinishReason = FinishReason.MaxTokens,
        };

        var records = new[]
        {
            Record(100, 100, 200),                  // exact, met
            Record(100, 125, 150),                  // 20 % off, met
            Record(100, 150, 130, joules: 2),       // 33 % off, over a 1.3× budget
            Record(100, 90, 110),                   // feasible, budget under 1.2× prediction, met
            Record(100, 100, 60, feasible: false),  // refused as infeasible
            new LiveQueryRecord { Expert = "e", Failure = "TimeoutException: slow" },
        };

        var report = LiveBenchReport.From(records, "moemesh bench live", "Release");

        Assert.Equal(6, report.Queries);
        Assert.Equal(5, report.Answered);
        Assert.Equal(1, report.Failed);
        // The infeasible plan's engine stops at its 60 ms deadline: its prediction counts as 60 ms (0.4 off).
        Assert.Equal(0.2, report.LatencyErrorMedian, 9);
        Assert.Equal(0.4, report.LatencyErrorP90, 9);
        Assert.Equal(10 / 90.0, report.LatencyErrorMedianUncapped, 9);
        Assert.Equal(1.0 / 3, report.LatencyErrorP90Uncapped, 9);
        Assert.Equal(0, report.EnergyErrorMedian, 9);
        Assert.Equal(0.2, report.RefusedShare, 9);
        Assert.Equal(0.8, report.FeasibleShare, 9);
        Assert.Equal(3, report.FeasibleWithMargin);
        Assert.Equal(2.0 / 3, report.MetShareOfFeasible, 9);
        Assert.Equal(150 / 130.0, report.WorstOverrun, 9);
        Assert.True(report.EnergyEstimated);
        Assert.Contains("estimated", report.ToText(), StringComparison.Ordinal);
    }
}
