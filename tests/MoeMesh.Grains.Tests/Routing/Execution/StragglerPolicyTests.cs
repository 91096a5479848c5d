using Microsoft.Extensions.Time.Testing;
using MoeMesh.Grains.Routing.Execution;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Tests.Routing.Execution;

public sealed class StragglerPolicyTests
{
    private readonly FakeTimeProvider _time = new();

    private static QueryPlan Plan(double? budgetMs, double aggregatorMs = 0, bool feasible = true) => new()
    {
        QueryId = "q",
        LatencyBudgetMs = budgetMs,
        Feasible = feasible,
        Steps =
        [
            new PlannedStep { ExpertId = "fast", PredictedLatencyMs = 100 },
            new PlannedStep { ExpertId = "slow", PredictedLatencyMs = 5000 },
            .. aggregatorMs > 0 ? [new PlannedStep { ExpertId = "agg", Role = ExpertRole.Aggregator, PredictedLatencyMs = aggregatorMs }] : Array.Empty<PlannedStep>(),
        ],
    };

    [Fact]
    public void The_deadline_is_the_budget_less_the_aggregators_time_counted_from_the_start()
    {
        var policy = new StragglerPolicy(Plan(1000, aggregatorMs: 300), _time.GetTimestamp(), _time);
        Assert.Equal(TimeSpan.FromMilliseconds(700), policy.Remaining);

        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(500), policy.Remaining);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, policy.Remaining);
        Assert.Null(new StragglerPolicy(Plan(null), _time.GetTimestamp(), _time).Remaining);
    }

    [Fact]
    public void The_aggregator_fits_while_the_budget_has_room_for_it_or_the_plan_is_infeasible_anyway()
    {
        var aggregator = new PlannedStep { ExpertId = "agg", Role = ExpertRole.Aggregator, PredictedLatencyMs = 300 };
        var policy = new StragglerPolicy(Plan(1000, aggregatorMs: 300), _time.GetTimestamp(), _time);
        var infeasible = new StragglerPolicy(Plan(1000, aggregatorMs: 300, feasible: false), _time.GetTimestamp(), _time);

        _time.Advance(TimeSpan.FromMilliseconds(700));
        Assert.True(policy.AggregatorFits(aggregator));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(policy.AggregatorFits(aggregator));
        Assert.True(infeasible.AggregatorFits(aggregator));
    }

    [Fact]
    public async Task Past_the_deadline_with_one_answer_in_the_others_are_cancelled()
    {
        var plan = Plan(1000);
        var policy = new StragglerPolicy(plan, _time.GetTimestamp(), _time);
        var fast = Running(plan.Steps[0]);
        var slow = Running(plan.Steps[1]);
        fast.Finish(RunOutcome.Completed);

        var waiting = policy.WaitAsync([fast.Step, slow.Step], CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        var notes = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(slow.Step.Cancel.IsCancellationRequested);
        Assert.False(fast.Step.Cancel.IsCancellationRequested);
        var note = Assert.Single(notes);
        Assert.StartsWith("Cancelled slow: still running at 1000 ms against a 1000 ms budget (predicted 5000 ms)", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Past_the_deadline_with_no_answer_yet_the_first_answer_is_awaited()
    {
        var plan = Plan(1000);
        var policy = new StragglerPolicy(plan, _time.GetTimestamp(), _time);
        var fast = Running(plan.Steps[0]);
        var slow = Running(plan.Steps[1]);

        var waiting = policy.WaitAsync([fast.Step, slow.Step], CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        await Task.Yield();
        Assert.False(waiting.IsCompleted);
        Assert.False(slow.Step.Cancel.IsCancellationRequested);

        slow.Finish(RunOutcome.Completed);
        var notes = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(fast.Step.Cancel.IsCancellationRequested);
        Assert.Contains("Cancelled fast", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_budget_every_responder_runs_to_the_end()
    {
        var plan = Plan(null);
        var policy = new StragglerPolicy(plan, _time.GetTimestamp(), _time);
        var fast = Running(plan.Steps[0]);
        var slow = Running(plan.Steps[1]);
        fast.Finish(RunOutcome.Completed);

        var waiting = policy.WaitAsync([fast.Step, slow.Step], CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        await Task.Yield();
        Assert.False(waiting.IsCompleted);

        slow.Finish(RunOutcome.Failed);
        Assert.Empty(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(slow.Step.Cancel.IsCancellationRequested);
    }

    private static Responder Running(PlannedStep step) => new(step);

    /// <summary>A responder whose runs finish when the test says, or with a cancelled run when the policy cancels it.</summary>
    private sealed class Responder
    {
        private readonly TaskCompletionSource<List<ExpertRun>> _runs = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Responder(PlannedStep step)
        {
            var cancel = new CancellationTokenSource();
            cancel.Token.Register(() => Finish(RunOutcome.Cancelled));
            Step = new RunningStep(step, cancel, _runs.Task);
        }

        public RunningStep Step { get; }

        public void Finish(RunOutcome outcome) => _runs.TrySetResult([new ExpertRun { ExpertId = Step.Step.ExpertId, Outcome = outcome }]);
    }
}
