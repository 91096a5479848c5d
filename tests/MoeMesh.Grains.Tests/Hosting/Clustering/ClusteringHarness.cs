using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Catalog;
using MoeMesh.Grains.Hosting;
using Orleans.Configuration;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

/// <summary>
/// Real silos as an edge box runs them (<c>AddMoeMeshSilo</c> over configuration, real TCP on
/// free ports) and an Orleans client that finds them through the same membership store.
/// </summary>
internal static class ClusteringHarness
{
    public const string ServiceId = "moemesh-clustering-tests";

    /// <summary>Settings of a localhost-clustered CPU silo with mutual TLS from <paramref name="tls"/>.</summary>
    public static Dictionary<string, string?> TlsSiloSettings(string clusterId, int siloPort, int primaryPort, MoeMesh.Security.MeshTlsOptions tls) => new()
    {
        ["MoeMesh:Device:Profile"] = "cpu-box",
        ["MoeMesh:Clustering:Provider"] = "Localhost",
        ["MoeMesh:Clustering:ClusterId"] = clusterId,
        ["MoeMesh:Clustering:ServiceId"] = ServiceId,
        ["MoeMesh:Endpoints:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
        ["MoeMesh:Endpoints:PrimarySiloPort"] = primaryPort.ToString(CultureInfo.InvariantCulture),
        ["MoeMesh:Endpoints:GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["MoeMesh:Tls:CertificatePath"] = tls.CertificatePath,
        ["MoeMesh:Tls:KeyPath"] = tls.KeyPath,
        ["MoeMesh:Tls:CaPath"] = tls.CaPath,
    };

    /// <summary>Upper bound for any start-up or convergence wait in these tests.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    public static Dictionary<string, string?> SiloSettings(string provider, string connectionString, string clusterId) => new()
    {
        ["MoeMesh:Device:Profile"] = "cpu-box",
        ["MoeMesh:Clustering:Provider"] = provider,
        ["MoeMesh:Clustering:ConnectionString"] = connectionString,
        ["MoeMesh:Clustering:ClusterId"] = clusterId,
        ["MoeMesh:Clustering:ServiceId"] = ServiceId,
        ["MoeMesh:Endpoints:AdvertisedAddress"] = "127.0.0.1",
        ["MoeMesh:Endpoints:SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["MoeMesh:Endpoints:GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Builds a silo host the way the silo executable does, from in-memory configuration;
    /// <paramref name="services"/> adds test doubles after MoeMesh's own registrations.
    /// </summary>
    public static IHost BuildSilo(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMoeMeshSilo();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>
    /// The error the silo's options validation (run at start, before the silo joins) reports for
    /// <paramref name="settings"/>; building the host reads nothing but the clustering provider and TLS.
    /// </summary>
    public static OptionsValidationException ValidationError(IDictionary<string, string?> settings)
    {
        using var host = BuildSilo(settings);
        return Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<MoeMeshSiloOptions>>().Value);
    }

    public static async Task<IHost> StartSiloAsync(IDictionary<string, string?> settings) => await StartSiloAsync(settings, null);

    public static async Task<IHost> StartSiloAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? services)
    {
        var host = BuildSilo(settings, services);
        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            await host.StartAsync(timeout.Token);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Starts silos together; when one fails, stops the others before rethrowing.</summary>
    public static Task<IHost[]> StartSilosAsync(params IDictionary<string, string?>[] settings) => StartSilosAsync(null, settings);

    /// <summary>Starts silos together, each with <paramref name="services"/> added; when one fails, stops the others before rethrowing.</summary>
    public static async Task<IHost[]> StartSilosAsync(Action<IServiceCollection>? services, params IDictionary<string, string?>[] settings)
    {
        var starting = settings.Select(s => StartSiloAsync(s, services)).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            await StopAllAsync(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToArray());
            throw;
        }
    }

    public static async Task<IHost> StartClientAsync(string clusterId, Action<IClientBuilder> useClustering)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            useClustering(client);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ServiceId;
            });
        });
        var host = builder.Build();
        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            await host.StartAsync(timeout.Token);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Polls the catalog until it lists <paramref name="count"/> active silos; returns that snapshot.</summary>
    public static async Task<CatalogSnapshot> WaitForActiveSilosAsync(IHost client, int count)
    {
        var catalog = client.Services.GetRequiredService<IClusterClient>().GetGrain<ICatalogGrain>(0);
        using var timeout = new CancellationTokenSource(Patience);
        CatalogSnapshot? last = null;
        try
        {
            while (true)
            {
                last = await catalog.GetSnapshotAsync().WaitAsync(timeout.Token);
                if (last.Silos.Count(s => s.State == SiloState.Active) >= count)
                {
                    return last;
                }

                await Task.Delay(200, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            var seen = last is null ? "no snapshot" : string.Join(", ", last.Silos.Select(s => $"{s.Silo}={s.State}"));
            throw new TimeoutException($"The catalog did not list {count} active silos within {Patience.TotalSeconds:0} s; last seen: {seen}.");
        }
    }

    /// <summary>Stops hosts together (a silo's graceful stop takes a while) and disposes them.</summary>
    public static async Task StopAllAsync(params IHost?[] hosts)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await Task.WhenAll(hosts.OfType<IHost>().Select(async h =>
        {
            try
            {
                await h.StopAsync(timeout.Token);
            }
            finally
            {
                h.Dispose();
            }
        }));
    }

    /// <summary>
    /// Starting a silo against a server nobody listens on (its connection string at 127.0.0.1 with the
    /// password "secret-word") fails within seconds, names the setting and the server, and keeps the password out.
    /// </summary>
    public static async Task AssertStartUpFailsPromptlyNamingTheSettingAsync(IDictionary<string, string?> settings)
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<MoeMeshConfigurationException>(() => StartSiloAsync(settings));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"start-up took {watch.Elapsed.TotalSeconds:0.0} s to fail");
        Assert.Contains("MoeMesh:Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-word", error.Message, StringComparison.Ordinal);
    }

    public static string GatewayOf(IDictionary<string, string?> settings) => "127.0.0.1:" + settings["MoeMesh:Endpoints:GatewayPort"];
}
