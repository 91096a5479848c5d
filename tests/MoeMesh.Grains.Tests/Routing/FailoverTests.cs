using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Client;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Engines;
using MoeMesh.Queries;
using Orleans.TestingHost;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>A silo dies while it streams part of a query; the client still gets its answer.</summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly ManifestFiles _files = new();
    private readonly EngineProbe _probe = new() { WordDelay = TimeSpan.FromMilliseconds(150), LoadDelay = TimeSpan.FromMilliseconds(300) };
    private InProcessTestCluster _cluster = null!;
    private IMoeMeshClient _client = null!;

    public async Task InitializeAsync()
    {
        _files.Write(new ExpertManifest
        {
            Id = "steady",
            Engine = ExpertEngines.LlamaCpp,
            ModelPath = "steady.gguf",
            ParameterCount = 1_000_000_000,
            Skills = ["general"],
            Replicas = 2,
        });
        var builder = new InProcessTestClusterBuilder(3);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = "rtx-4090-desktop" },
                Experts = new ExpertHostingOptions { Manifests = [_files.Folder], Calibration = new CalibrationOptions { ProbeAtLoad = false } },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            host.Services.AddSingleton(_probe);
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration));

            // Registered after MoeMesh's own engines: the last provider for an engine name wins.
            host.Services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        _client = new MoeMeshClient(_cluster.Client);
        foreach (var replica in new[] { 0, 1 })
        {
            await _cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica("steady", replica).GrainKey).WarmUpAsync();
        }

        // Wait for both replicas' reports to reach the catalog, then for the routers' cached copies to age out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await _client.GetStatusAsync()).Replicas.Where(r => r.State == ReplicaState.Ready).Select(r => r.Silo).Distinct().Count() < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "both replicas of 'steady' never reported ready");
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(1.2));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Killing_the_expert_silo_mid_stream_replans_on_a_surviving_replica()
    {
        // Route from the one silo that holds no replica, so the silo that dies is only the expert's.
        var snapshot = await _client.GetStatusAsync();
        var replicaSilos = snapshot.Replicas.Where(r => r.State == ReplicaState.Ready).Select(r => r.Silo).ToHashSet();
        var routerSilo = _cluster.Silos.Single(s => !replicaSilos.Contains(SiloIdentity.NameOf(s.SiloAddress)));
        var viaRouterSilo = new MoeMeshClient(_cluster.GetSiloServiceProvider(routerSilo.SiloAddress).GetRequiredService<IGrainFactory>());

        var (events, plan) = await RunAndKillAsync(viaRouterSilo, p => p.Steps[0].Silo);

        Assert.Equal(SiloIdentity.NameOf(routerSilo.SiloAddress), plan.RouterSilo);
        var result = Assert.IsType<QueryCompleted>(events[^1]).Result;
        Assert.Equal("steady says: the answer is (B) because reasons", result.Answer);
        Assert.Equal([RunOutcome.Failed, RunOutcome.Completed], result.Runs.Select(r => r.Outcome));
        Assert.Equal(plan.Steps[0].Silo, result.Runs[0].Silo);
        Assert.NotEqual(result.Runs[0].Silo, result.Runs[1].Silo);
        Assert.Contains(events, e => e is QueryNotice n && n.Message.Contains("re-planned", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("re-planned", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Killing_the_router_silo_mid_stream_still_answers_the_client()
    {
        var (events, plan) = await RunAndKillAsync(_client, p => p.RouterSilo);

        var result = Assert.IsType<QueryCompleted>(events[^1]).Result;
        Assert.Equal("steady says: the answer is (B) because reasons", result.Answer);
        Assert.Contains(events, e => e is QueryNotice n && n.Message.Contains("asking the mesh again", StringComparison.Ordinal));
        Assert.NotEqual(plan.RouterSilo, result.Plan.RouterSilo);
    }

    /// <summary>Streams a query and kills the silo <paramref name="choose"/> names once two tokens have arrived.</summary>
    private async Task<(List<QueryEvent> Events, QueryPlan Plan)> RunAndKillAsync(IMoeMeshClient client, Func<QueryPlan, string?> choose)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var query = Query.FromPrompt("tell me something general", new QueryOptions { Experts = ["steady"] });
        var events = new List<QueryEvent>();
        QueryPlan? plan = null;

        // The first run pauses after three words, so the kill lands mid-stream however slow the machine.
        _probe.StallNextRuns(runs: 1, afterWords: 3, atMost: TimeSpan.FromSeconds(15));
        string? victim = null;
        await foreach (var e in client.StreamAsync(query, timeout.Token))
        {
            events.Add(e);
            if (e is PlanChosen chosen && plan is null)
            {
                plan = chosen.Plan;
                victim = choose(plan);
                Assert.NotNull(victim);
            }
            else if (victim is not null && e is TokenProduced && events.OfType<TokenProduced>().Count() == 2)
            {
                await _cluster.KillSiloAsync(_cluster.Silos.Single(s => SiloIdentity.NameOf(s.SiloAddress) == victim));
                victim = null;
            }
        }

        Assert.NotNull(plan);
        Assert.Null(victim);
        return (events, plan);
    }
}
