using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

public sealed class BatchWindowTests
{
    private readonly FakeTimeProvider _time = new();

    private BatchWindow Window(TimeSpan width) => new(Options.Create(new RouterOptions { BatchWindow = width }), _time);

    [Fact]
    public async Task Runs_for_one_expert_within_the_window_are_released_together()
    {
        var window = Window(TimeSpan.FromMilliseconds(200));

        var first = window.JoinAsync("math", CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(150));
        var second = window.JoinAsync("math", CancellationToken.None).AsTask();
        var other = window.JoinAsync("code", CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(new[] { 2, 2 }, await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(other.IsCompleted, "the other expert's window opened later and is still open");
        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.Equal(1, await other.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_later_run_opens_a_new_window()
    {
        var window = Window(TimeSpan.FromMilliseconds(30));

        var first = window.JoinAsync("math", CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(30)));

        var later = window.JoinAsync("math", CancellationToken.None).AsTask();
        Assert.False(later.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(1, await later.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_zero_window_releases_at_once()
    {
        var window = Window(TimeSpan.Zero);

        var joined = window.JoinAsync("math", CancellationToken.None);

        Assert.True(joined.IsCompleted);
        Assert.Equal(1, await joined);
    }

    [Fact]
    public async Task Cancelling_a_waiting_run_does_not_release_the_others()
    {
        var window = Window(TimeSpan.FromMilliseconds(300));
        using var cts = new CancellationTokenSource();
        var cancelled = window.JoinAsync("math", cts.Token).AsTask();
        var waiting = window.JoinAsync("math", CancellationToken.None).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(300));

        // The cancelled run left the group: only the other one is released.
        Assert.Equal(1, await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_window_emptied_by_cancellation_closes_so_the_next_run_opens_its_own()
    {
        var window = Window(TimeSpan.FromMilliseconds(300));
        using var cts = new CancellationTokenSource();
        var cancelled = window.JoinAsync("math", cts.Token).AsTask();
        Assert.Equal(1, window.Waiting("math"));

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, window.Waiting("math"));

        _time.Advance(TimeSpan.FromMilliseconds(200));
        var next = window.JoinAsync("math", CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(next.IsCompleted, "the next run waits a window of its own, not what was left of the emptied one");
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, await next.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
