using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Dashboard;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
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
    public const string ApiKey = "test-key-0123456789abcdef";

    private readonly ManifestFiles _files = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public EngineProbe Probe { get; } = new();

    public WebApplication App { get; private set; } = null!;

    /// <summary>The dashboard's address, ending in '/'.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public static ExpertManifest GeneralSmall { get; } = ManifestFiles.Scripted("general-small", ["general", "writing", "history"]) with { Replicas = 2, DisplayName = "General 1B", ModelSizeBytes = 1_320_000_000 };

    public static ExpertManifest MathSmall { get; } = ManifestFiles.Scripted("math-small", ["math", "algebra", "arithmetic"]) with { DisplayName = "Math 1B", ModelSizeBytes = 870_000_000 };

    public static ExpertManifest CodeSmall { get; } = ManifestFiles.Scripted("code-small", ["code", "programming", "python"]) with { DisplayName = "Code 1B", ModelSizeBytes = 1_100_000_000 };

    public static string ProfileOf(int siloIndex) => siloIndex == 0 ? "jetson-agx-orin-64gb" : "rtx-4090-desktop";

    public async Task InitializeAsync()
    {
        foreach (var manifest in new[] { GeneralSmall, MathSmall, CodeSmall })
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
                Experts = new ExpertHostingOptions { Manifests = [_files.Folder] },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
            });
            host.Services.AddSingleton(Probe);
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration).AddMoeMeshOrleansDashboard());

            // Registered after MoeMesh's own engines: the last provider for an engine name wins.
            host.Services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
        });
        builder.ConfigureClient(client => client.AddActivityPropagation());
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        App = await StartDashboardAsync(Cluster.Client, o => o.ApiKeys = [ApiKey]);
        BaseAddress = new Uri(MoeMeshDashboardExtensions.DashboardUrls(App.Services)[0]);
        await WaitForSilosAsync(2);
    }

    /// <summary>Starts a dashboard on a free loopback port over <paramref name="grains"/>.</summary>
    public static async Task<WebApplication> StartDashboardAsync(IGrainFactory grains, Action<MoeMeshDashboardOptions> configure)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(grains);
        builder.AddMoeMeshDashboard(o =>
        {
            o.Urls = ["http://127.0.0.1:0"];
            o.LiveIntervalMs = 200;
            configure(o);
        });
        var app = builder.Build();
        app.MapMoeMeshDashboard();
        await app.StartAsync();
        return app;
    }

    /// <summary>A client for the dashboard, with the API key unless <paramref name="authorized"/> is false.</summary>
    public HttpClient CreateClient(bool authorized = true)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (authorized)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        }

        return client;
    }

    /// <summary>Waits until <paramref name="count"/> silos are active in the catalog and report telemetry.</summary>
    public async Task WaitForSilosAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var catalog = await Cluster.Client.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(timeout.Token);
            var overview = await Cluster.Client.GetGrain<MoeMesh.Monitoring.IMeshMonitorGrain>(0).GetOverviewAsync(0).WaitAsync(timeout.Token);
            if (catalog.Silos.Count(s => s.State == SiloState.Active) >= count && overview.Silos.Count >= count)
            {
                return;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        _files.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardMeshCollection : ICollectionFixture<DashboardMeshFixture>
{
    public const string Name = "dashboard over a two-silo mesh";
}
