using Microsoft.Extensions.Options;
using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

public sealed class BatchWindowTests
{
    [Fact]
    public async Task Runs_for_one_expert_within_the_window_are_released_together()
    {
        var window = new BatchWindow(Options.Create(new RouterOptions { BatchWindow = TimeSpan.FromMilliseconds(200) }), TimeProvider.System);

        var first = window.JoinAsync("math", CancellationToken.None).AsTask();
        await Task.Delay(20);
        var second = window.JoinAsync("math", CancellationToken.None).AsTask();
        var other = window.JoinAsync("code", CancellationToken.None).AsTask();

        Assert.False(first.IsCompleted);
        var released = await Task.WhenAll(first, second);
        Assert.Equal(new[] { 2, 2 }, released);
        Assert.Equal(1, await other);
    }

    [Fact]
    public async Task A_later_run_opens_a_new_window()
    {
        var window = new BatchWindow(Options.Create(new RouterOptions { BatchWindow = TimeSpan.FromMilliseconds(30) }), TimeProvider.System);

        Assert.Equal(1, await window.JoinAsync("math", CancellationToken.None));
        Assert.Equal(1, await window.JoinAsync("math", CancellationToken.None));
    }

    [Fact]
    public async Task A_zero_window_releases_at_once()
    {
        var window = new BatchWindow(Options.Create(new RouterOptions()), TimeProvider.System);

        var joined = window.JoinAsync("math", CancellationToken.None);

        Assert.True(joined.IsCompleted);
        Assert.Equal(1, await joined);
    }

    [Fact]
    public async Task Cancelling_a_waiting_run_does_not_release_the_others()
    {
        var window = new BatchWindow(Options.Create(new RouterOptions { BatchWindow = TimeSpan.FromMilliseconds(300) }), TimeProvider.System);
        using var cts = new CancellationTokenSource();
        var cancelled = window.JoinAsync("math", cts.Token).AsTask();
        var waiting = window.JoinAsync("math", CancellationToken.None).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(2, await waiting);
    }
}
