using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Catalog;
using MoeMesh.Client;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Hosting.Clustering;
using MoeMesh.Grains.Routing;
using MoeMesh.Grains.Tests.Hosting.Clustering;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Engines;
using MoeMesh.Queries;
using Orleans.Configuration;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>
/// A silo killed without a word still owns its share of the grain directory until membership
/// declares it dead, so a call to a replica on a healthy silo, addressed through that share,
/// fails naming the dead silo. The router must blame the silo named, wait for membership, and
/// still answer every query: three real TCP silos, a kill that writes nothing to membership.
/// </summary>
public sealed class DirectoryOwnerFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ExpertId = "gpu-steady";
    private readonly ManifestFiles _files = new();
    private readonly EngineProbe _probe = new();
    private readonly SharedMembershipTable _table = new();
    private readonly string _clusterId = "directory-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<(IHost Host, SharedMembershipTable.View Membership)> _silos = [];
    private IHost? _killed;

    public async Task InitializeAsync()
    {
        // Only the GPU box (silo 0) may host the expert, so every plan and every failover goes there.
        _files.Write(ManifestFiles.Scripted(ExpertId, ["general"]) with
        {
            Placement = new PlacementConstraints { DeviceKinds = [DeviceKind.DesktopGpu] },
        });
        // Three CPU silos, so one can always be killed that neither hosts the catalog nor owns its
        // directory entry: losing either would rebuild the catalog and the router's plan with it.
        foreach (var profile in new[] { "rtx-4090-desktop", "cpu-box", "cpu-box", "cpu-box" })
        {
            _silos.Add(await StartSiloAsync(profile));
        }
    }

    public async Task DisposeAsync()
    {
        _killed?.Dispose();
        await ClusteringHarness.StopAllAsync([.. _silos.Select(s => s.Host).Where(h => h != _killed)]);
        _files.Dispose();
    }

    [Fact]
    public async Task Queries_after_a_silent_kill_blame_the_directory_owner_and_all_answer()
    {
        var (host, router, victim, replica) = await ArrangeAsync();
        var routerServices = router.Host.Services;
        var victimName = SiloIdentity.NameOf(Address(victim.Host));
        var hostName = SiloIdentity.NameOf(Address(host.Host));

        // The last moment the router's membership still counted the victim as active.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var membershipWatch = LastSeenActiveAsync(routerServices.GetRequiredService<IClusterMembershipService>(), victimName, timeout.Token);

        // kill -9: the victim's store writes fail (it cannot say it is leaving) and its ports close.
        // Its stop goes on for a few seconds after that; the queries go out as soon as the port is
        // closed, before the others can have voted it out, as queries arriving right after a kill do.
        victim.Membership.Cut();
        _killed = victim.Host;
        var stopping = KillAsync(victim.Host);
        await WhenClosedAsync(Address(victim.Host).Endpoint, timeout.Token);
        Assert.False(membershipWatch.IsCompleted, "membership evicted the victim before any query was sent");

        // Every query the router accepts is answered, although the first call of each is lost in addressing.
        var client = new MoeMeshClient(routerServices.GetRequiredService<IGrainFactory>());
        var query = Query.FromPrompt("tell me something general", new QueryOptions { Experts = [ExpertId] });
        var asked = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.AskAsync(query, timeout.Token)));
        output.WriteLine($"answered {Stopwatch.GetElapsedTime(asked).TotalSeconds:0.0} s after the kill");
        await stopping;
        foreach (var run in results.SelectMany(r => r.Runs))
        {
            output.WriteLine($"replica {run.Replica} on {run.Silo}: {run.Outcome} {run.Error}");
        }

        foreach (var result in results)
        {
            Assert.Equal($"{ExpertId} says: the answer is (B) because reasons", result.Answer);
            Assert.Equal(RunOutcome.Completed, result.Runs[^1].Outcome);
            Assert.Equal(hostName, result.Runs[^1].Silo);
        }

        // The planned replica was on the healthy GPU silo, and the call never reached it: it was lost
        // addressing the grain through the killed silo's share of the directory.
        var lost = results.SelectMany(r => r.Runs).Where(r => r.Outcome == RunOutcome.Failed).ToList();
        Assert.NotEmpty(lost);
        Assert.All(lost, run => Assert.Equal((hostName, replica), (run.Silo, run.Replica)));
        Assert.All(lost, run => Assert.Contains(Address(victim.Host).ToString(), run.Error, StringComparison.Ordinal));
        Assert.Equal(results.Length, _probe.Started.Count(s => s.Expert == ExpertId));

        // The router waited for membership to drop the dead silo before it tried again: every run
        // started after a moment at which the victim was still listed as active.
        var lastSeenActive = await membershipWatch;
        Assert.All(_probe.Started, s => Assert.True(s.At > lastSeenActive, "a failover ran before membership dropped the killed silo"));

        // Blame fell on the silo named: the GPU silo stays in plans, the killed one is out.
        var snapshot = await routerServices.GetRequiredService<CatalogCache>().GetAsync(timeout.Token);
        Assert.Equal(SiloState.Active, snapshot.Silos.Single(s => s.Silo == hostName).State);
        Assert.DoesNotContain(snapshot.Silos, s => s.Silo == victimName && s.State == SiloState.Active);
    }

    /// <summary>
    /// Watches <paramref name="membership"/> until it stops counting <paramref name="silo"/> as active and returns the last
    /// <see cref="Stopwatch"/> timestamp taken before a look that still found it active. Membership changed after that
    /// moment, whichever thread observes the change first, so a run that waited for the change starts later.
    /// </summary>
    private static async Task<long> LastSeenActiveAsync(IClusterMembershipService membership, string silo, CancellationToken cancellationToken)
    {
        var lastSeenActive = Stopwatch.GetTimestamp();
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (!MembershipWait.IsActive(membership.CurrentSnapshot, silo))
            {
                return lastSeenActive;
            }

            lastSeenActive = now;
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>
    /// Picks the roles: the victim is a CPU silo that neither hosts the catalog nor owns its directory entry, the router another CPU silo,
    /// and a replica on the GPU silo whose directory entry the victim owns is loaded from the GPU
    /// silo itself, so the router has never looked it up.
    /// </summary>
    private async Task<((IHost Host, SharedMembershipTable.View Membership) Host, (IHost Host, SharedMembershipTable.View Membership) Router,
        (IHost Host, SharedMembershipTable.View Membership) Victim, int Replica)> ArrangeAsync()
    {
        var gpu = _silos[0];
        var gpuGrains = gpu.Host.Services.GetRequiredService<IGrainFactory>();
        await WaitForActiveAsync(gpu.Host, _silos.Count);
        await gpuGrains.GetGrain<ICatalogGrain>(0).GetSnapshotAsync();
        var catalogSilo = await gpuGrains.GetGrain<IManagementGrain>(0).GetActivationAddress(gpuGrains.GetGrain<ICatalogGrain>(0));
        Assert.NotNull(catalogSilo);
        var catalogOwner = DirectoryOwner(gpuGrains.GetGrain<ICatalogGrain>(0).GetGrainId());
        var victim = _silos.Skip(1).First(s => !Address(s.Host).Equals(catalogSilo) && !Address(s.Host).Equals(catalogOwner));
        var router = _silos.Skip(1).First(s => s != victim);

        var replica = Enumerable.Range(1, 200).First(r => DirectoryOwner(gpuGrains.GetGrain<IExpertGrain>(new ExpertReplica(ExpertId, r).GrainKey).GetGrainId()).Equals(Address(victim.Host)));
        output.WriteLine($"GPU silo {Address(gpu.Host)}, router {Address(router.Host)}, victim {Address(victim.Host)} owning the directory entry of replica {replica}");
        RequestContext.Set(IPlacementDirector.PlacementHintKey, Address(gpu.Host));
        var status = await gpuGrains.GetGrain<IExpertGrain>(new ExpertReplica(ExpertId, replica).GrainKey).WarmUpAsync();
        RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        Assert.Equal(SiloIdentity.NameOf(Address(gpu.Host)), status.Silo);

        // The router plans from the catalog, so wait until the replica shows there as ready.
        var cache = router.Host.Services.GetRequiredService<CatalogCache>();
        using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
        while (!(await cache.GetAsync(timeout.Token)).Replicas.Any(r => r.Replica.ExpertId == ExpertId && r.State == ReplicaState.Ready))
        {
            await Task.Delay(200, timeout.Token);
        }

        return (gpu, router, victim, replica);
    }

    /// <summary>The silo owning <paramref name="grain"/>'s directory entry: Orleans' ring, the last silo hashed at or below the grain.</summary>
    private SiloAddress DirectoryOwner(GrainId grain)
    {
        var hash = unchecked((int)grain.GetUniformHashCode());
        var ring = _silos.Select(s => Address(s.Host)).OrderBy(s => s.GetConsistentHashCode()).ToList();
        return ring.LastOrDefault(s => s.GetConsistentHashCode() <= hash) ?? ring[^1];
    }

    private async Task<(IHost, SharedMembershipTable.View)> StartSiloAsync(string profile)
    {
        var membership = _table.NewView();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
        {
            Device = new DeviceOptions { Profile = profile },
            // No calibration probe at load: the test counts the runs that reach the engine.
            Experts = new ExpertHostingOptions { Manifests = [_files.Folder], Calibration = new CalibrationOptions { ProbeAtLoad = false } },
            Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
            Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
        });
        builder.Services.AddSingleton(_probe);
        builder.Services.AddSingleton<IMembershipTable>(membership);
        builder.UseOrleans(orleans =>
        {
            orleans.AddMoeMesh(configuration);
            orleans.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, ClusteringHarness.ServiceId));
            orleans.ConfigureEndpoints(IPAddress.Loopback, FreePort.Next(), FreePort.Next(), listenOnAnyHostAddress: false);

            // The shipped edge-LAN failure detection, as Redis and PostgreSQL silos run it.
            MembershipTuning.Configure(orleans, new MembershipTuningOptions());
        });

        // Registered after MoeMesh's own engines: the last provider for an engine name wins.
        builder.Services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
        await host.StartAsync(timeout.Token);
        return (host, membership);
    }

    /// <summary>Stops a silo at once, without a graceful shutdown; its failed membership writes are expected.</summary>
    private static async Task KillAsync(IHost host)
    {
        // A killed process runs no code; this silo's stop still tries to record its status and would
        // retry against the unreachable store for minutes (MaxJoinAttemptTime) before closing its ports.
        host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value.MaxJoinAttemptTime = TimeSpan.FromSeconds(1);
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try
        {
            await host.StopAsync(now.Token).WaitAsync(ClusteringHarness.Patience);
        }
        catch (OrleansException)
        {
            // Its membership writes fail by design.
        }
    }

    /// <summary>Returns once nothing accepts connections at <paramref name="endpoint"/> any more.</summary>
    private static async Task WhenClosedAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var probe = new System.Net.Sockets.TcpClient();
            try
            {
                await probe.ConnectAsync(endpoint, cancellationToken);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task WaitForActiveAsync(IHost silo, int count)
    {
        var membership = silo.Services.GetRequiredService<IClusterMembershipService>();
        using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
        while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) < count)
        {
            await membership.Refresh(cancellationToken: timeout.Token);
            await Task.Delay(100, timeout.Token);
        }
    }

    private static SiloAddress Address(IHost host) => host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
}
