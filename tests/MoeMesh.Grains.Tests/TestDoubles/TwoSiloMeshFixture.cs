using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Client;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Inference.Engines;
using MoeMesh.Queries;
using Orleans.TestingHost;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// Two in-process silos with different devices (silo 0: Jetson AGX Orin 64GB; silo 1: RTX 4090)
/// holding the same manifests, served by scripted engines.
/// </summary>
public sealed class TwoSiloMeshFixture : IAsyncLifetime
{
    public const long GiB = 1024L * 1024 * 1024;

    private readonly ManifestFiles _files = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public EngineProbe Probe { get; } = new();

    public IMoeMeshClient Client { get; private set; } = null!;

    public static ExpertManifest GeneralSmall { get; } = ManifestFiles.Scripted("general-small", ["general", "writing", "history"]) with { Replicas = 2 };

    public static ExpertManifest MathSmall { get; } = ManifestFiles.Scripted("math-small", ["math", "algebra", "arithmetic"]);

    /// <summary>27 GiB of weights: only the Jetson's 64 GiB holds it.</summary>
    public static ExpertManifest Big { get; } = ManifestFiles.Scripted("big-45b", ["law"]) with { ParameterCount = 45_000_000_000, ModelSizeBytes = 27 * GiB };

    public static ExpertManifest GpuOnlyCode { get; } = ManifestFiles.Scripted("gpu-code", ["code", "programming"]) with
    {
        Placement = new PlacementConstraints { DeviceKinds = [DeviceKind.DesktopGpu] },
    };

    /// <summary>120 GiB: no silo holds it.</summary>
    public static ExpertManifest Huge { get; } = ManifestFiles.Scripted("huge-200b", ["everything"]) with { ParameterCount = 200_000_000_000, ModelSizeBytes = 120 * GiB };

    /// <summary>The experts of equal size, among which skills decide (larger experts otherwise win on size).</summary>
    public static QueryOptions SmallExperts(QueryOptions? options = null)
        => (options ?? new QueryOptions()) with { Experts = [GeneralSmall.Id, MathSmall.Id, GpuOnlyCode.Id] };

    public static string ProfileOf(int siloIndex) => siloIndex == 0 ? "jetson-agx-orin-64gb" : "rtx-4090-desktop";

    public async Task InitializeAsync()
    {
        foreach (var manifest in new[] { GeneralSmall, MathSmall, Big, GpuOnlyCode, Huge })
        {
            _files.Write(manifest);
        }

        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((silo, host) =>
        {
            var index = silo.SiloName == "Primary" ? 0 : int.Parse(silo.SiloName.Split('_')[^1], System.Globalization.CultureInfo.InvariantCulture);
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = ProfileOf(index) },
                Experts = new ExpertHostingOptions { Manifests = [_files.Folder], Calibration = new CalibrationOptions { ProbeAtLoad = false } },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            host.Services.AddSingleton(Probe);
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration));

            // Registered after MoeMesh's own engines: the last provider for an engine name wins.
            host.Services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new MoeMeshClient(Cluster.Client);
        await WaitForSilosAsync(2);
    }

    /// <summary>Waits until <paramref name="count"/> silos have registered with the catalog.</summary>
    public async Task WaitForSilosAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await Client.GetStatusAsync(timeout.Token);
            if (status.Silos.Count(s => s.State == MoeMesh.Catalog.SiloState.Active) >= count)
            {
                return;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>The device name of the silo an expert replica is active on.</summary>
    public async Task<string> DeviceOfReplicaAsync(string expertId, int replica)
    {
        var status = await Cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica(expertId, replica).GrainKey).WarmUpAsync();
        var snapshot = await Client.GetStatusAsync();
        return snapshot.Silos.Single(s => s.Silo == status.Silo).Device.Name;
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _files.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSiloMeshCollection : ICollectionFixture<TwoSiloMeshFixture>
{
    public const string Name = "two-silo mesh";
}
