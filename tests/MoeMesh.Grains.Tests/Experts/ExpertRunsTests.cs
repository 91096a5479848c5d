using MoeMesh.Grains.Experts;

namespace MoeMesh.Grains.Tests.Experts;

public sealed class ExpertRunsTests
{
    [Fact]
    public void A_run_its_caller_cancels_is_counted_until_the_engine_lets_go()
    {
        var ledger = new CancelledGenerations("silo");
        var runs = new ExpertRuns(ledger, TimeProvider.System);
        using var caller = new CancellationTokenSource();
        var run = runs.Begin("run-1", caller.Token);
        Assert.Equal(0, ledger.Running);

        caller.Cancel();
        Assert.True(run.Token.IsCancellationRequested);
        Assert.Equal(1, ledger.Running);

        run.Dispose();
        Assert.Equal(0, ledger.Running);
    }

    [Fact]
    public void An_explicit_cancel_is_counted_and_a_run_that_ends_normally_is_not()
    {
        var ledger = new CancelledGenerations("silo");
        var runs = new ExpertRuns(ledger, TimeProvider.System);
        var finished = runs.Begin("run-1", CancellationToken.None);
        finished.Dispose();
        Assert.Equal(0, ledger.Running);

        var cancelled = runs.Begin("run-2", CancellationToken.None);
        Assert.True(runs.Cancel("run-2"));
        Assert.Equal(1, ledger.Running);
        cancelled.Dispose();
        Assert.Equal(0, ledger.Running);
    }
}
