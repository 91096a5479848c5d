using Microsoft.Extensions.Logging.Abstractions;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Residency;

namespace MoeMesh.Grains.Tests.Residency;

public sealed class ExpertResidencyTests
{
    private static readonly ExpertReplica A = new("a", 0);
    private static readonly ExpertReplica B = new("b", 0);
    private static readonly ExpertReplica C = new("c", 0);

    [Fact]
    public async Task Models_that_fit_load_without_evictions()
    {
        var residency = Create(100);

        await Reserve(residency, A, 40);
        await Reserve(residency, B, 60);

        Assert.Equal(100, residency.UsedBytes);
        Assert.Equal(0, residency.Evictions);
        Assert.Equal(2, residency.Loads);
    }

    [Fact]
    public async Task The_least_recently_used_idle_model_is_unloaded_first()
    {
        var residency = Create(100);
        await Reserve(residency, A, 50);
        await Reserve(residency, B, 50);
        residency.BeginUse(A);
        residency.EndUse(A);

        await Reserve(residency, C, 50);

        Assert.Equal([A, C], residency.Snapshot().Select(m => m.Replica));
        Assert.Equal(1, residency.Evictions);
    }

    [Fact]
    public async Task Pinned_models_are_never_unloaded()
    {
        var residency = Create(100);
        await Reserve(residency, A, 60, pinned: true);

        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => residency.ReserveAsync(B, 60, pinned: false, owner: null));

        Assert.Contains("pinned models hold the rest", error.Message);
        Assert.Contains("a/0", error.Message);
        Assert.Equal([A], residency.Snapshot().Select(m => m.Replica));
    }

    [Fact]
    public async Task Busy_models_are_not_unloaded_and_the_load_waits_for_them()
    {
        var residency = Create(100, TimeSpan.FromSeconds(10));
        await Reserve(residency, A, 80);
        residency.BeginUse(A);

        var waiting = residency.ReserveAsync(B, 50, pinned: false, owner: null);
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);

        residency.EndUse(A);
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([B], residency.Snapshot().Select(m => m.Replica));
    }

    [Fact]
    public async Task A_model_larger_than_the_budget_is_refused_at_once()
    {
        var residency = Create(100);

        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => residency.ReserveAsync(A, 101, pinned: false, owner: null));

        Assert.Contains("lets models use only 100", error.Message);
    }

    [Fact]
    public async Task Loaded_records_the_real_size_and_release_frees_it()
    {
        var residency = Create(100);
        await residency.ReserveAsync(A, 10, pinned: false, owner: null);
        Assert.True(residency.Snapshot()[0].Loading);

        residency.Loaded(A, 30);
        Assert.Equal(30, residency.UsedBytes);
        Assert.True(residency.IsResident("a"));

        residency.Release(A);
        Assert.Equal(0, residency.UsedBytes);
    }

    private static ExpertResidency Create(long budget, TimeSpan? maxWait = null)
        => new(new ModelMemoryBudget(budget), TimeProvider.System, NullLogger<ExpertResidency>.Instance) { MaxWait = maxWait ?? TimeSpan.FromSeconds(2) };

    private static async Task Reserve(ExpertResidency residency, ExpertReplica replica, long bytes, bool pinned = false)
    {
        await residency.ReserveAsync(replica, bytes, pinned, owner: null);
        residency.Loaded(replica, bytes);
    }
}
