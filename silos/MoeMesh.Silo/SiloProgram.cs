using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Dashboard;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Silo;

/// <summary>
/// The edge-box executable: configuration in (appsettings.json, MOEMESH_/DOTNET_ environment
/// variables, command line), a MoeMesh silo out. With <c>MoeMesh:Dashboard:Enabled=true</c> the same
/// process also serves the dashboard and the OpenAI-compatible API over the silo's grain factory.
/// </summary>
public static class SiloProgram
{
    /// <summary>The switch for Orleans' Kubernetes hosting, set by the manifests in deploy/kubernetes.</summary>
    public const string KubernetesHostingSetting = "MoeMesh:Kubernetes:Enabled";

    public static async Task<int> RunAsync(string[] args)
    {
        IHostApplicationBuilder builder;
        try
        {
            builder = CreateBuilder(args);
            builder.AddMoeMeshSilo();

            // Benchmark and fault-lab meshes replay recorded answers; production silos never load that engine.
            builder.Services.AddReplayEngineIfEnabled(builder.Configuration);
            if (builder.Configuration.GetValue(KubernetesHostingSetting, false))
            {
                // In a pod: ClusterOptions and the silo address come from the pod (ORLEANS_CLUSTER_ID,
                // ORLEANS_SERVICE_ID, POD_IP), and pods of silos declared dead are deleted.
                builder.UseOrleans(silo => silo.UseKubernetesHosting());
            }

            builder.AddMoeMeshTelemetry();
            if (builder.Configuration.GetValue($"{MoeMeshDashboardOptions.SectionName}:{nameof(MoeMeshDashboardOptions.OrleansDashboard)}", true))
            {
                // Grain-level statistics for the Orleans dashboard, here or in a `moemesh dashboard` process.
                builder.UseOrleans(silo => silo.AddMoeMeshOrleansDashboard());
            }

            if (builder is WebApplicationBuilder)
            {
                builder.AddMoeMeshDashboard();
            }
        }
        catch (Exception ex) when (ex is MoeMeshConfigurationException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"moemesh-silo: {ex.Message}");
            return 2;
        }

        if (builder is WebApplicationBuilder web)
        {
            await using var app = web.Build();
            app.MapMoeMeshDashboard();
            try
            {
                await app.StartAsync();
            }
            catch (IOException ex)
            {
                // The silo may already be up: leave the cluster cleanly before exiting.
                await app.StopAsync(CancellationToken.None);
                await Console.Error.WriteLineAsync($"moemesh-silo: the dashboard cannot listen: {ex.Message} (set MoeMesh:Dashboard:Urls)");
                return 2;
            }
            catch (Exception ex) when (ConfigurationError(ex) is { } error)
            {
                await Console.Error.WriteLineAsync($"moemesh-silo: {error}");
                return 2;
            }

            Console.WriteLine($"moemesh-silo: dashboard at {string.Join(" ", MoeMeshDashboardExtensions.DashboardUrls(app.Services))}");
            await app.WaitForShutdownAsync();
            return 0;
        }

        using var host = ((HostApplicationBuilder)builder).Build();
        try
        {
            await host.StartAsync();
        }
        catch (Exception ex) when (ConfigurationError(ex) is { } error)
        {
            // Options validated on start, and checks that need the network (clustering store reachable,
            // schema applied), fail here, not at build time.
            await Console.Error.WriteLineAsync($"moemesh-silo: {error}");
            return 2;
        }

        await host.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>
    /// The message of the configuration error behind a start-up failure (a MoeMesh configuration
    /// problem or options that failed validation), however deeply the host wrapped it; null for
    /// anything else.
    /// </summary>
    private static string? ConfigurationError(Exception? ex)
    {
        while (ex is not null)
        {
            switch (ex)
            {
                case MoeMeshConfigurationException configuration:
                    return configuration.Message;
                case OptionsValidationException validation:
                    return string.Join(" ", validation.Failures);
                case AggregateException aggregate when aggregate.InnerExceptions.Select(ConfigurationError).FirstOrDefault(e => e is not null) is { } inner:
                    return inner;
            }

            ex = ex.InnerException;
        }

        return null;
    }

    /// <summary>A web application builder when the dashboard is enabled, a plain host builder otherwise.</summary>
    private static IHostApplicationBuilder CreateBuilder(string[] args)
    {
        var plain = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        AddMoeMeshSources(plain.Configuration, args);
        if (!DashboardEnabled(plain.Configuration))
        {
            return plain;
        }

        var web = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        AddMoeMeshSources(web.Configuration, args);
        return web;
    }

    private static void AddMoeMeshSources(IConfigurationBuilder configuration, string[] args)
    {
        configuration.AddEnvironmentVariables(prefix: "MOEMESH_");
        configuration.AddCommandLine(args);
    }

    private static bool DashboardEnabled(IConfiguration configuration)
    {
        const string key = $"{MoeMeshDashboardOptions.SectionName}:{nameof(MoeMeshDashboardOptions.Enabled)}";
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        return bool.TryParse(value, out var enabled)
            ? enabled
            : throw new MoeMeshConfigurationException($"{key} must be true or false, got '{value}'.");
    }
}
