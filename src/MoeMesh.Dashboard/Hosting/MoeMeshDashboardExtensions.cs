using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeMesh.Client;
using MoeMesh.Dashboard;
using MoeMesh.Dashboard.Api;
using MoeMesh.Dashboard.Hosting;
using MoeMesh.Dashboard.Live;
using MoeMesh.Dashboard.Moe;
using MoeMesh.Dashboard.Security;
using MoeMesh.Dashboard.Ui;
using MoeMesh;
using Orleans.Dashboard;

namespace Microsoft.Extensions.Hosting;

/// <summary>Hosting extensions for the MoeMesh dashboard and OpenAI-compatible API.</summary>
public static class MoeMeshDashboardExtensions
{
    /// <summary>
    /// Adds the dashboard and the OpenAI-compatible API to a web host whose services hold an
    /// <see cref="IGrainFactory"/> (a silo's or a cluster client's); chat completions go through the
    /// host's <see cref="IMoeMeshClient"/>, or one over that grain factory. Reads and validates the
    /// <c>MoeMesh:Dashboard</c> section (then <paramref name="configure"/>), and configures Kestrel to listen
    /// on the configured URLs (on the loopback interface only when no API key is set) with the body limit.
    /// Map the endpoints with <see cref="MapMoeMeshDashboard"/>.
    /// </summary>
    /// <exception cref="MoeMeshConfigurationException">The configuration is invalid; the message lists every problem.</exception>
    public static IHostApplicationBuilder AddMoeMeshDashboard(this IHostApplicationBuilder builder, Action<MoeMeshDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = LoadOptions(builder.Configuration, configure);
        var settings = new DashboardSettings(options);
        var services = builder.Services;

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(settings);
        services.AddSingleton(options);
        services.AddSingleton<MeshReader>();
        services.AddSingleton<LiveFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveFeed>());
        services.AddSingleton<ChatCompletionsHandler>();

        // The API asks the mesh as the SDK does (router keys, retries, silence watchdog); a host that
        // added the SDK (moemesh dashboard) keeps its own client.
        services.TryAddSingleton<IMoeMeshClient>(sp => new MoeMeshClient(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetService<IOptions<MoeMeshClientOptions>>()?.Value,
            sp.GetRequiredService<TimeProvider>()));

        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            foreach (var address in settings.Listen)
            {
                kestrel.Listen(address.Address, address.Port, listen =>
                {
                    if (address.IsHttps)
                    {
                        listen.UseHttps(options.CertificatePath!, options.CertificatePassword);
                    }
                });
            }
        });

        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(DashboardAuth.Scheme, displayName: "MoeMesh API key", configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(DashboardAuth.Policy, policy => policy.AddAuthenticationSchemes(DashboardAuth.Scheme).RequireAuthenticatedUser());

        if (options.OrleansDashboard && !services.Any(d => d.ServiceType == typeof(OrleansDashboardRegistration)))
        {
            // The Orleans dashboard's web side needs only the grain factory, like the rest of this dashboard.
            new ServiceCollectionClientBuilder(services, builder.Configuration).AddDashboard();
            services.AddSingleton(new OrleansDashboardRegistration());
        }

        return builder;
    }

    /// <summary>
    /// Maps the dashboard page (<c>/</c>, <c>/login</c>, <c>/assets/…</c>), its data (<c>/api/…</c>), the
    /// OpenAI-compatible API (<c>/v1/…</c>) and, when enabled, the Orleans dashboard (<c>/orleans/</c>), all
    /// behind the API-key policy; logs where it listens once the server has started.
    /// </summary>
    public static IEndpointRouteBuilder MapMoeMeshDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var settings = endpoints.ServiceProvider.GetService<DashboardSettings>()
            ?? throw new InvalidOperationException("Call builder.AddMoeMeshDashboard() before app.MapMoeMeshDashboard().");

        UiEndpoints.Map(endpoints, DashboardAuth.Policy);
        LoginEndpoints.Map(endpoints);
        LiveEndpoints.Map(endpoints.MapGroup("/api").RequireAuthorization(DashboardAuth.Policy));
        MoeEndpoints.Map(endpoints, DashboardAuth.Policy);
        OpenAiEndpoints.Map(endpoints.MapGroup("/v1").RequireAuthorization(DashboardAuth.Policy));
        if (settings.Options.OrleansDashboard)
        {
            endpoints.MapOrleansDashboard("/orleans").RequireAuthorization(DashboardAuth.Policy);
        }

        var services = endpoints.ServiceProvider;
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("MoeMesh.Dashboard");
            var urls = DashboardUrls(services);
            DashboardLog.Listening(logger, string.Join(", ", urls), settings.Keys.Required ? "an API key" : "no key");
            if (!settings.Keys.Required)
            {
                DashboardLog.NoKey(logger, settings.NarrowedToLoopback ? " (the configured non-loopback addresses were narrowed to 127.0.0.1)" : "");
            }
        });
        return endpoints;
    }

    /// <summary>The addresses the dashboard answers on once the server has started (with the real port for port 0).</summary>
    public static IReadOnlyList<string> DashboardUrls(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var list = addresses is { Count: > 0 }
            ? addresses.ToList()
            : services.GetRequiredService<DashboardSettings>().Listen.Select(a => a.ToString()).ToList();
        return list.Select(u => u.Replace("://0.0.0.0:", "://" + Dns.GetHostName() + ":", StringComparison.Ordinal).TrimEnd('/') + "/").ToList();
    }

    /// <summary>
    /// Adds the Orleans dashboard's silo services (grain call statistics) to a MoeMesh silo, so that a
    /// dashboard in this silo or in a <c>moemesh dashboard</c> process can show grain-level views under <c>/orleans</c>.
    /// </summary>
    public static ISiloBuilder AddMoeMeshOrleansDashboard(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (!silo.Services.Any(d => d.ServiceType == typeof(OrleansDashboardRegistration)))
        {
            silo.AddDashboard(o => o.HideTrace = true);
            silo.Services.AddSingleton(new OrleansDashboardRegistration());
        }

        return silo;
    }

    private static MoeMeshDashboardOptions LoadOptions(IConfiguration configuration, Action<MoeMeshDashboardOptions>? configure)
    {
        var options = new MoeMeshDashboardOptions();
        try
        {
            configuration.GetSection(MoeMeshDashboardOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new MoeMeshConfigurationException($"Invalid {MoeMeshDashboardOptions.SectionName} configuration: {ex.Message}", ex);
        }

        configure?.Invoke(options);
        MoeMeshConfigurationException.ThrowIfAny(options.Validate(), $"Invalid {MoeMeshDashboardOptions.SectionName} configuration");
        return options;
    }

    /// <summary>Marks that the Orleans dashboard's services are registered.</summary>
    private sealed class OrleansDashboardRegistration;

    /// <summary>Lets the Orleans dashboard register its web-side services into any service collection.</summary>
    private sealed class ServiceCollectionClientBuilder(IServiceCollection services, IConfiguration configuration) : IClientBuilder
    {
        public IServiceCollection Services { get; } = services;

        public IConfiguration Configuration { get; } = configuration;
    }
}

internal static partial class DashboardLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "MoeMesh dashboard at {Urls} (OpenAI-compatible API under /v1, Orleans grain views under /orleans), opened with {Access}")]
    public static partial void Listening(ILogger logger, string urls, string access);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is configured (MoeMesh:Dashboard:ApiKeys): the dashboard and API listen on the loopback interface only{Narrowed}")]
    public static partial void NoKey(ILogger logger, string narrowed);
}
