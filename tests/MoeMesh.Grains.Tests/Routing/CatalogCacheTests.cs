using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Catalog;
using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

public sealed class CatalogCacheTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ConcurrentQueue<TaskCompletionSource<CatalogSnapshot>> _calls = new();

    [Fact]
    public async Task A_fresh_snapshot_serves_without_asking_the_catalog_grain()
    {
        var cache = new CatalogCache(CatalogGrain(), _time);
        var first = Answer(cache.GetAsync(), "first");

        Assert.Same(await first, await cache.GetAsync());
        _time.Advance(CatalogCache.MaxAge - TimeSpan.FromMilliseconds(1));
        Assert.Equal("first", Warning(await cache.GetAsync()));
        Assert.Single(_calls);
    }

    [Fact]
    public async Task A_snapshot_just_past_its_age_serves_at_once_while_one_refresh_runs_behind_it()
    {
        var cache = new CatalogCache(CatalogGrain(), _time);
        await Answer(cache.GetAsync(), "first");
        _time.Advance(CatalogCache.MaxAge);

        // The catalog grain has not answered the refresh: queries do not wait for it, and do not start another.
        Assert.Equal("first", Warning(await cache.GetAsync()));
        Assert.Equal("first", Warning(await cache.GetAsync()));
        Assert.Equal(2, _calls.Count);

        _calls.Last().SetResult(Snapshot("second"));
        Assert.Equal("second", await RefreshedAsync(cache, "second"));
        Assert.Equal(2, _calls.Count);
    }

    [Fact]
    public async Task A_snapshot_too_old_or_invalidated_waits_for_a_fresh_one()
    {
        var cache = new CatalogCache(CatalogGrain(), _time);
        await Answer(cache.GetAsync(), "first");

        _time.Advance(CatalogCache.MaxAge + CatalogCache.StaleFor);
        var old = cache.GetAsync();
        Assert.False(old.IsCompleted);
        Assert.Equal("second", Warning(await Answer(old, "second")));

        cache.Invalidate();
        var invalidated = cache.GetAsync();
        Assert.False(invalidated.IsCompleted);
        Assert.Equal("third", Warning(await Answer(invalidated, "third")));
    }

    /// <summary>The tag the cache serves once its background refresh has landed (it lands on another thread).</summary>
    private static async Task<string> RefreshedAsync(CatalogCache cache, string expected)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string seen;
        while ((seen = Warning(await cache.GetAsync())) != expected && !patience.IsCancellationRequested)
        {
            await Task.Delay(1, CancellationToken.None);
        }

        return seen;
    }

    private static CatalogSnapshot Snapshot(string tag) => new() { Warnings = [tag] };

    private static string Warning(CatalogSnapshot snapshot) => Assert.Single(snapshot.Warnings);

    /// <summary>Answers the catalog grain call <paramref name="pending"/> is waiting on with a snapshot tagged <paramref name="tag"/>.</summary>
    private async Task<CatalogSnapshot> Answer(ValueTask<CatalogSnapshot> pending, string tag)
    {
        Assert.True(_calls.TryPeek(out _), "the cache did not ask the catalog grain");
        _calls.Last().TrySetResult(Snapshot(tag));
        return await pending;
    }

    private IGrainFactory CatalogGrain()
    {
        var catalog = DispatchProxy.Create<ICatalogGrain, UndeliveredSiloTests.Answering>();
        ((UndeliveredSiloTests.Answering)(object)catalog).Answer = m =>
        {
            if (m.Name != nameof(ICatalogGrain.GetSnapshotAsync))
            {
                return null;
            }

            var call = new TaskCompletionSource<CatalogSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
            _calls.Enqueue(call);
            return call.Task;
        };
        var factory = DispatchProxy.Create<IGrainFactory, UndeliveredSiloTests.Answering>();
        ((UndeliveredSiloTests.Answering)(object)factory).Answer = m => m.Name == nameof(IGrainFactory.GetGrain) && m.ReturnType == typeof(ICatalogGrain) ? catalog : null;
        return factory;
    }
}
