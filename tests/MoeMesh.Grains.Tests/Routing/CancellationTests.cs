using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Experts;
using MoeMesh.Grains.Experts;
using MoeMesh.Grains.Routing;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Queries;
using Xunit.Abstractions;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>
/// A client's cancellation reaches an expert that has said nothing yet, in every state a run can be
/// in, on the shared two-silo mesh. Each expert stays silent far longer than the tests wait, so
/// only the cancellation can end it. The time from the cancel to the engine letting go is written
/// to the test output ("cancel→engine").
/// </summary>
[Collection(TwoSiloMeshCollection.Name)]
public sealed class CancellationTests(TwoSiloMeshFixture mesh, ITestOutputHelper output)
{
    private const string Expert = "gpu-code";

    /// <summary>Longer than any wait below: an expert silent this long was stopped by the cancellation or not at all.</summary>
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task Cancel_reaches_an_expert_silent_in_prefill(int run)
    {
        Reset();
        mesh.Probe.StallNextRuns(runs: 1, afterWords: 0, atMost: Silence);
        try
        {
            using var cts = new CancellationTokenSource();
            var reading = new Reader(mesh, Query(), cts.Token);
            Assert.True(await Eventually.HoldsAsync(() => !mesh.Probe.Started.IsEmpty, Bound), "the run never reached the engine");

            var cancelled = await CancelAsync(cts, reading);

            await AssertEngineStoppedAsync("prefill", run, cancelled);
        }
        finally
        {
            mesh.Probe.StallNextRuns(runs: 0, afterWords: 0, atMost: TimeSpan.Zero);
        }
    }

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task Cancel_reaches_an_expert_silent_in_decode(int run)
    {
        Reset();
        mesh.Probe.StallNextRuns(runs: 1, afterWords: 2, atMost: Silence);
        try
        {
            using var cts = new CancellationTokenSource();
            var reading = new Reader(mesh, Query(), cts.Token);
            Assert.True(await Eventually.HoldsAsync(() => reading.Tokens > 0, Bound), "no token arrived");

            var cancelled = await CancelAsync(cts, reading);

            await AssertEngineStoppedAsync("decode", run, cancelled);
        }
        finally
        {
            mesh.Probe.StallNextRuns(runs: 0, afterWords: 0, atMost: TimeSpan.Zero);
        }
    }

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task Cancel_reaches_a_run_waiting_for_its_model_to_load(int run)
    {
        Reset();
        await UnloadAsync();
        mesh.Probe.LoadsStarted.Clear();
        mesh.Probe.HoldLoads();
        try
        {
            using var meter = new CancelledRunningMeter();
            using var cts = new CancellationTokenSource();
            var reading = new Reader(mesh, Query(), cts.Token);
            Assert.True(await Eventually.HoldsAsync(() => mesh.Probe.LoadsStarted.Contains(Expert), Bound), "the model never started loading");
            var replica = mesh.Cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica(Expert, 0).GrainKey);
            Assert.True(await Eventually.HoldsAsync(async () => (await replica.GetStatusAsync()).ActiveRequests == 1, Bound), "the run never waited for the model");

            var cancelled = await CancelAsync(cts, reading);

            // The run never reaches the engine; the expert lets go of it while the model still loads.
            Assert.True(await Eventually.HoldsAsync(() => meter.Changes.Any(c => c.Delta < 0), Bound), "the expert kept the cancelled run");
            Report("model load", run, cancelled, meter.Changes.First(c => c.Delta < 0).At);
            mesh.Probe.ReleaseLoads();
            Assert.True(await Eventually.HoldsAsync(() => mesh.Probe.Loaded.Contains(Expert), Bound));
            await Task.Delay(200);
            Assert.Empty(mesh.Probe.Started);
            await AssertNothingLeftRunningAsync();
        }
        finally
        {
            mesh.Probe.ReleaseLoads();
        }
    }

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task Cancel_reaches_a_run_queued_in_the_batch_window(int run)
    {
        Reset();
        var windows = SiloServices<BatchWindow>();
        SetRouterOptions(o => o.BatchWindow = TimeSpan.FromSeconds(5));
        try
        {
            using var cts = new CancellationTokenSource();
            var reading = new Reader(mesh, Query(), cts.Token);
            Assert.True(await Eventually.HoldsAsync(() => windows.Any(w => w.Waiting(Expert) == 1), Bound), "the run never joined the batch window");

            var cancelled = await CancelAsync(cts, reading);

            Assert.True(await Eventually.HoldsAsync(() => windows.All(w => w.Waiting(Expert) == 0), Bound), "the cancelled run stayed in the window");
            Report("batch window", run, cancelled, Stopwatch.GetTimestamp());
            await Task.Delay(200);
            Assert.Empty(mesh.Probe.Started);
        }
        finally
        {
            SetRouterOptions(o => o.BatchWindow = TimeSpan.Zero);
        }
    }

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task Cancel_reaches_the_skill_expert_while_the_router_plans(int run)
    {
        Reset();
        mesh.Probe.StallNextRuns(runs: 64, afterWords: 0, atMost: Silence);
        SetRouterOptions(o => o.SkillExpert = Expert);
        try
        {
            using var cts = new CancellationTokenSource();
            var reading = new Reader(mesh, Query(answeredBy: "math-small"), cts.Token);
            Assert.True(await Eventually.HoldsAsync(() => !mesh.Probe.Started.IsEmpty, Bound), "the router never asked its skill expert");

            var cancelled = await CancelAsync(cts, reading);

            // Every round of skill extraction that reached the engine stops; the answer's expert never starts.
            Assert.True(await Eventually.HoldsAsync(() => mesh.Probe.Stopped.Count >= mesh.Probe.Started.Count, Bound), "a skill round kept running");
            Report("planning", run, cancelled, mesh.Probe.Stopped.Max(s => s.At));
            Assert.DoesNotContain(mesh.Probe.Started, s => s.Expert == "math-small");
            await AssertNothingLeftRunningAsync();
        }
        finally
        {
            SetRouterOptions(o => o.SkillExpert = null);
            mesh.Probe.StallNextRuns(runs: 0, afterWords: 0, atMost: TimeSpan.Zero);
        }
    }

    [Theory]
    [MemberData(nameof(Repeat.Runs), MemberType = typeof(Repeat))]
    public async Task A_caller_that_vanishes_without_cancelling_stops_the_expert(int run)
    {
        Reset();
        mesh.Probe.StallNextRuns(runs: 1, afterWords: 0, atMost: Silence);
        var events = mesh.Cluster.Client.GetGrain<IRouterGrain>(Random.Shared.Next(64)).RunAsync(Query()).GetAsyncEnumerator();
        try
        {
            Assert.True(await events.MoveNextAsync());
            Assert.True(await Eventually.HoldsAsync(() => !mesh.Probe.Started.IsEmpty, Bound), "the run never reached the engine");

            // The caller stops reading: no cancellation, no disposal, as when its process dies.
            var gone = Stopwatch.GetTimestamp();
            Assert.True(await Eventually.HoldsAsync(() => !mesh.Probe.Stopped.IsEmpty, TimeSpan.FromSeconds(60)), "the expert kept running for a vanished caller");
            var ms = Stopwatch.GetElapsedTime(gone, mesh.Probe.Stopped.First().At).TotalMilliseconds;
            output.WriteLine($"caller gone→engine run {run}: {ms:0} ms");
            await AssertNothingLeftRunningAsync();
        }
        finally
        {
            mesh.Probe.StallNextRuns(runs: 0, afterWords: 0, atMost: TimeSpan.Zero);
            await events.DisposeAsync();
        }
    }

    private static Query Query(string answeredBy = Expert)
        => MoeMesh.Queries.Query.FromPrompt("write code for a programming puzzle", new QueryOptions { Experts = [answeredBy] });

    private void Reset()
    {
        mesh.Probe.Started.Clear();
        mesh.Probe.Stopped.Clear();
        mesh.Probe.Cancelled.Clear();
    }

    private static async Task<long> CancelAsync(CancellationTokenSource cts, Reader reading)
    {
        var at = Stopwatch.GetTimestamp();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.Done).WaitAsync(Bound);
        return at;
    }

    private async Task AssertEngineStoppedAsync(string state, int run, long cancelled)
    {
        Assert.True(await Eventually.HoldsAsync(() => !mesh.Probe.Stopped.IsEmpty, Bound), $"the cancellation never reached the engine in {state}");
        Report(state, run, cancelled, mesh.Probe.Stopped.First().At);
        await AssertNothingLeftRunningAsync();
    }

    private void Report(string state, int run, long cancelled, long reached)
        => output.WriteLine($"cancel→engine {state} run {run}: {Stopwatch.GetElapsedTime(cancelled, reached).TotalMilliseconds:0} ms");

    /// <summary>The silos' count of cancelled generations still running drops back to zero.</summary>
    private async Task AssertNothingLeftRunningAsync()
    {
        var ledgers = SiloServices<CancelledGenerations>();
        Assert.True(await Eventually.HoldsAsync(() => ledgers.All(l => l.Running == 0), Bound), "a cancelled generation kept running");
    }

    private List<T> SiloServices<T>() where T : notnull
        => mesh.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<T>()).ToList();

    private void SetRouterOptions(Action<RouterOptions> change)
    {
        foreach (var options in SiloServices<IOptions<RouterOptions>>())
        {
            change(options.Value);
        }
    }

    /// <summary>Deactivates the expert's replica, so the next query loads its model afresh.</summary>
    private async Task UnloadAsync()
    {
        var key = new ExpertReplica(Expert, 0).GrainKey;
        await mesh.Cluster.Client.GetGrain<IExpertGrain>(key).AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        Assert.True(await Eventually.HoldsAsync(
            async () => (await mesh.Client.GetStatusAsync()).Replicas.Any(r => r.Replica.GrainKey == key && r.State == ReplicaState.Unloaded),
            Bound), "the replica did not unload");
    }

    /// <summary>Reads a query's stream through the SDK, counting tokens, until it ends or is cancelled.</summary>
    private sealed class Reader
    {
        private int _tokens;

        public Reader(TwoSiloMeshFixture mesh, Query query, CancellationToken cancellationToken)
            => Done = Task.Run(async () =>
            {
                await foreach (var e in mesh.Client.StreamAsync(query, cancellationToken))
                {
                    if (e is TokenProduced)
                    {
                        Interlocked.Increment(ref _tokens);
                    }
                }
            });

        public Task Done { get; }

        public int Tokens => Volatile.Read(ref _tokens);
    }
}
