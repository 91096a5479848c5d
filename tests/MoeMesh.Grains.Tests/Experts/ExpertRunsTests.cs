using MoeMesh.Grains.Experts;

namespace MoeMesh.Grains.Tests.Experts;

public sealed class ExpertRunsTests
{
    private readonly CancelledGenerations _ledger = new("silo-a");

    [Fact]
    public void Cancel_of_a_running_run_cancels_its_token_and_counts_it_until_it_ends()
    {
        var runs = new ExpertRuns(_ledger, TimeProvider.System);
        var run = runs.Begin("a", CancellationToken.None);

        Assert.True(runs.Cancel("a"));

        Assert.True(run.Token.IsCancellationRequested);
        Assert.Equal(1, _ledger.Running);
        run.Dispose();
        Assert.Equal(0, _ledger.Running);
    }

    [Fact]
    public async Task A_run_cancelled_by_its_caller_is_counted_before_anything_waiting_on_it_resumes()
    {
        var runs = new ExpertRuns(_ledger, TimeProvider.System);
        using var caller = new CancellationTokenSource();
        var run = runs.Begin("a", caller.Token);
        var seenByWaiter = -1;
        var waiting = Task.Delay(Timeout.Infinite, run.Token).ContinueWith(_ => seenByWaiter = _ledger.Running, TaskScheduler.Default);

        await caller.CancelAsync();
        await waiting;

        Assert.Equal(1, seenByWaiter);
        run.Dispose();
        Assert.Equal(0, _ledger.Running);
    }

    [Fact]
    public void A_cancel_that_arrives_before_its_run_cancels_the_run_on_arrival()
    {
        var runs = new ExpertRuns(_ledger, TimeProvider.System);

        Assert.False(runs.Cancel("early"));
        using var run = runs.Begin("early", CancellationToken.None);
        using var other = runs.Begin("other", CancellationToken.None);

        Assert.True(run.Token.IsCancellationRequested);
        Assert.False(other.Token.IsCancellationRequested);
        Assert.Equal(1, runs.Count);
    }

    [Fact]
    public void A_run_that_ends_normally_is_never_counted()
    {
        var runs = new ExpertRuns(_ledger, TimeProvider.System);
        using (runs.Begin("a", CancellationToken.None))
        {
            Assert.Equal(1, runs.Count);
        }

        Assert.Equal(0, runs.Count);
        Assert.False(runs.Cancel("a"));
        Assert.Equal(0, _ledger.Running);
    }
}
