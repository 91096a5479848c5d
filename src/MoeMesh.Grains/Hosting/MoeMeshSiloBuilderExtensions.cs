using MoeMesh.Embeddings;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Experts;
using MoeMesh;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Hosting.Clustering;
using MoeMesh.Grains.Hosting.Security;
using MoeMesh.Grains.Monitoring;
using MoeMesh.Grains.Placement;
using MoeMesh.Grains.Residency;
using MoeMesh.Grains.Routing;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Queries;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Microsoft.Extensions.Hosting;

/// <summary>Hosting extensions that turn an Orleans silo into a MoeMesh silo.</summary>
public static class MoeMeshSiloBuilderExtensions
{
    /// <summary>
    /// Runs a MoeMesh silo in this host: reads and validates the <c>MoeMesh</c> configuration section,
    /// then configures Orleans with MoeMesh's grains and the configured clustering.
    /// </summary>
    public static IHostApplicationBuilder AddMoeMeshSilo(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = MoeMeshSiloConfiguration.Load(builder.Configuration, builder.Environment.ContentRootPath);
        builder.UseOrleans(silo => silo.AddMoeMesh(configuration).UseMoeMeshClustering(configuration.Options));
        return builder;
    }

    /// <summary>Adds MoeMesh's grains and services, configured from <paramref name="configuration"/>'s <c>MoeMesh</c> section.</summary>
    public static ISiloBuilder AddMoeMesh(this ISiloBuilder silo, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.AddMoeMesh(MoeMeshSiloConfiguration.Load(configuration ?? silo.Configuration));
    }

    /// <summary>Adds MoeMesh's grains and services for an already resolved configuration.</summary>
    public static ISiloBuilder AddMoeMesh(this ISiloBuilder silo, MoeMeshSiloConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);

        silo.UseSiloMetadata(configuration.ToSiloMetadata());
        silo.AddPlacementDirector<DeviceFitPlacement, DeviceFitPlacementDirector>();
        silo.AddMoeTokenPath();

        // Traces follow a query from the client through the router to every expert's silo.
        silo.AddActivityPropagation();

        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(configuration);
        services.AddSingleton(configuration.Device);
        services.AddSingleton(new LocalExpertManifests(configuration.Experts));
        services.AddSingleton(new ModelMemoryBudget(configuration.ModelMemoryBudgetBytes));
        services.AddSingleton<SiloIdentity>();
        services.AddSingleton<ExpertEngineRegistry>();
        services.AddSingleton<MoeMesh.Grains.Experts.Engines.CalibrationGate>();
        services.AddSingleton(sp => new CancelledGenerations(sp.GetRequiredService<SiloIdentity>().Name));
        services.AddLlamaCppEngine($"{MoeMeshSiloOptions.SectionName}:Llama");

        services.TryAddSingleton(sp => EnergyMeterSelector.Select(configuration.Options.Energy, sp.GetRequiredService<DeviceProfile>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<EnergyMeterChoice>().Meter);
        services.AddSingleton(sp => new EnergyAccountant(sp.GetRequiredService<IEnergyMeter>(), sp.GetRequiredService<DeviceProfile>(), sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<CatalogCache>();
        services.AddSingleton<BatchWindow>();
        services.AddOptions<RouterOptions>().BindConfiguration(RouterOptionsValidator.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>());
        services.AddSingleton<LiveCostModel>();
        services.AddSingleton<RecordedKnowledge>();

        // The embedding model is loaded on first use only: routers without embeddings never pay for it.
        services.TryAddSingleton<ITextEmbedder>(_ => new MiniLmTextEmbedder());
        services.TryAddSingleton<IQueryPlanner, MeshRoutingPlanner>();

        services.AddSingleton<ExpertResidency>();
        services.AddSingleton<SiloTelemetryReporter>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloTelemetryReporter>());

        return silo;
    }

    /// <summary>Configures membership, ports and the advertised address from <paramref name="options"/>.</summary>
    public static ISiloBuilder UseMoeMeshClustering(this ISiloBuilder silo, MoeMeshSiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        var clustering = options.Clustering;
        var endpoints = options.Endpoints;
        switch (clustering.Provider)
        {
            case ClusteringProvider.External:
                SiloTransportSecurity.Configure(silo, options.Tls, advertised: null);
                return silo;

            case ClusteringProvider.Localhost:
                SiloTransportSecurity.Configure(silo, options.Tls, IPAddress.Loopback);
                MembershipTuning.Configure(silo, options.Membership);
                silo.UseLocalhostClustering(
                    endpoints.SiloPort,
                    endpoints.GatewayPort,
                    new IPEndPoint(IPAddress.Loopback, endpoints.PrimarySiloPort),
                    clustering.ServiceId,
                    clustering.ClusterId);
                return silo;

            case ClusteringProvider.Redis:
                RedisMembershipCheck.Configure(silo, clustering.ConnectionString);
                break;

            case ClusteringProvider.Postgres:
                PostgresMembershipSchema.Configure(silo, clustering.ConnectionString);
                break;

            default:
                throw new MoeMeshConfigurationException($"Unknown clustering provider {clustering.Provider}.");
        }

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clustering.ClusterId;
            o.ServiceId = clustering.ServiceId;
        });
        MembershipTuning.Configure(silo, options.Membership);

        // A silo advertised on the loopback listens only there; any other address is reachable from the LAN.
        var advertised = ResolveAdvertisedAddress(endpoints.AdvertisedAddress);
        SiloTransportSecurity.Configure(silo, options.Tls, advertised);
        silo.ConfigureEndpoints(advertised, endpoints.SiloPort, endpoints.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
        return silo;
    }

    private static IPAddress ResolveAdvertisedAddress(string? advertised)
    {
        if (string.IsNullOrWhiteSpace(advertised))
        {
            return FirstLanAddress() ?? IPAddress.Loopback;
        }

        if (IPAddress.TryParse(advertised, out var ip))
        {
            return ip;
        }

        try
        {
            return Dns.GetHostAddresses(advertised).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new MoeMeshConfigurationException($"MoeMesh:Endpoints:AdvertisedAddress '{advertised}' has no IPv4 address.");
        }
        catch (SocketException ex)
        {
            throw new MoeMeshConfigurationException($"MoeMesh:Endpoints:AdvertisedAddress '{advertised}' cannot be resolved: {ex.Message}", ex);
        }
    }

    private static IPAddress? FirstLanAddress()
        => System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up
                        && n.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
