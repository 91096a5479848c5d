using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeMesh.Grains.Hosting;
using Orleans.TestingHost;

namespace MoeMesh.Dashboard.Tests.TestDoubles;

/// <summary>
/// The start-up the dashboard fixtures share: two in-process silos over the manifests in a folder (silo 0 a
/// Jetson AGX Orin 64GB, silo 1 an RTX 4090 desktop), and the dashboard on Kestrel on a free loopback
/// port over the cluster client's grain factory, opened with <see cref="ApiKey"/>.
/// </summary>
public sealed class DashboardMesh : IAsyncDisposable
{
    public const string ApiKey = "test-key-0123456789abcdef";

    private DashboardMesh(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public WebApplication App { get; private set; } = null!;

    /// <summary>The dashboard's address, ending in '/'.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public static string ProfileOf(int siloIndex) => siloIndex == 0 ? "jetson-agx-orin-64gb" : "rtx-4090-desktop";

    /// <summary>
    /// Deploys two silos hosting the manifests in <paramref name="manifests"/> and starts the
    /// dashboard over them. <paramref name="configureSilo"/> adjusts a silo's options; <paramref name="configureOrleans"/>
    /// adds to its Orleans set-up; <paramref name="configureServices"/> registers services after MoeMesh's own, so
    /// they win where the last registration does.
    /// </summary>
    public static async Task<DashboardMesh> StartAsync(
        string manifests,
        Action<MoeMeshSiloOptions>? configureSilo = null,
        Action<ISiloBuilder>? configureOrleans = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((silo, host) =>
        {
            var options = new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = ProfileOf(IndexOf(silo.SiloName)) },
                Experts = new ExpertHostingOptions { Manifests = [manifests] },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
            };
            configureSilo?.Invoke(options);
            var configuration = MoeMeshSiloConfiguration.Resolve(options);
            host.UseOrleans(orleans =>
            {
                orleans.AddMoeMesh(configuration);
                configureOrleans?.Invoke(orleans);
            });
            configureServices?.Invoke(host.Services);
        });
        builder.ConfigureClient(client => client.AddActivityPropagation());

        var mesh = new DashboardMesh(builder.Build());
        try
        {
            await mesh.Cluster.DeployAsync();
            mesh.App = await StartDashboardAsync(mesh.Cluster.Client, o => o.ApiKeys = [ApiKey]);
            mesh.BaseAddress = new Uri(MoeMeshDashboardExtensions.DashboardUrls(mesh.App.Services)[0]);
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
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

    /// <summary>Asks <paramref name="ready"/> every 100 ms until it holds, for at most <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (!await ready().WaitAsync(cancel.Token))
        {
            await Task.Delay(100, cancel.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        await Cluster.DisposeAsync();
    }

    // The test cluster names its first silo "Primary" and the others "Silo_<n>".
    private static int IndexOf(string siloName)
        => siloName == "Primary" ? 0 : int.Parse(siloName.Split('_')[^1], CultureInfo.InvariantCulture);
}
