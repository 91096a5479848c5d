using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Catalog;
using MoeMesh.Dashboard;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using Orleans.TestingHost;

namespace MoeMesh.Dashboard.Tests.TestDoubles;

/// <summary>
/// Two in-process silos (silo 0: Jetson AGX Orin 64GB; silo 1: RTX 4090 desktop) serving scripted
/// experts, and the dashboard running on Kestrel on a free loopback port over the cluster client's
/// grain factory, opened with <see cref="ApiKey"/>.
/// </summary>
public sealed class DashboardMeshFixture : IAsyncLifetime
{
    public const string ApiKey = DashboardMesh.ApiKey;

    private readonly ManifestFiles _files = new();
    private DashboardMesh _mesh = null!;

    public InProcessTestCluster Cluster => _mesh.Cluster;

    public EngineProbe Probe { get; } = new();

    public WebApplication App => _mesh.App;

    /// <summary>The dashboard's address, ending in '/'.</summary>
    public Uri BaseAddress => _mesh.BaseAddress;

    public static ExpertManifest GeneralSmall { get; } = ManifestFiles.Scripted("general-small", ["general", "writing", "history"]) with { Replicas = 2, DisplayName = "General 1B", ModelSizeBytes = 1_320_000_000 };

    public static ExpertManifest MathSmall { get; } = ManifestFiles.Scripted("math-small", ["math", "algebra", "arithmetic"]) with { DisplayName = "Math 1B", ModelSizeBytes = 870_000_000 };

    public static ExpertManifest CodeSmall { get; } = ManifestFiles.Scripted("code-small", ["code", "programming", "python"]) with { DisplayName = "Code 1B", ModelSizeBytes = 1_100_000_000 };

    public static string ProfileOf(int siloIndex) => DashboardMesh.ProfileOf(siloIndex);

    public async Task InitializeAsync()
    {
        foreach (var manifest in new[] { GeneralSmall, MathSmall, CodeSmall })
        {
            _files.Write(manifest);
        }

        _mesh = await DashboardMesh.StartAsync(
            _files.Folder,
            configureOrleans: orleans => orleans.AddMoeMeshOrleansDashboard(),
            configureServices: services =>
            {
                services.AddSingleton(Probe);

                // Registered after MoeMesh's own engines: the last provider for an engine name wins.
                services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
            });
        await WaitForSilosAsync(2);
    }

    /// <summary>Starts a dashboard on a free loopback port over <paramref name="grains"/>.</summary>
    public static Task<WebApplication> StartDashboardAsync(IGrainFactory grains, Action<MoeMeshDashboardOptions> configure)
        => DashboardMesh.StartDashboardAsync(grains, configure);

    /// <summary>A client for the dashboard, with the API key unless <paramref name="authorized"/> is false.</summary>
    public HttpClient CreateClient(bool authorized = true) => _mesh.CreateClient(authorized);

    /// <summary>Waits until <paramref name="count"/> silos are active in the catalog and report telemetry.</summary>
    public Task WaitForSilosAsync(int count) => DashboardMesh.WaitUntilAsync(
        async () =>
        {
            var catalog = await Cluster.Client.GetGrain<ICatalogGrain>(0).GetSnapshotAsync();
            var overview = await Cluster.Client.GetGrain<MoeMesh.Monitoring.IMeshMonitorGrain>(0).GetOverviewAsync(0);
            return catalog.Silos.Count(s => s.State == SiloState.Active) >= count && overview.Silos.Count >= count;
        },
        TimeSpan.FromSeconds(30));

    public async Task DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
        }

        _files.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardMeshCollection : ICollectionFixture<DashboardMeshFixture>
{
    public const string Name = "dashboard over a two-silo mesh";
}
