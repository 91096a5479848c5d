using MoeMesh.Embeddings;
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
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Microsoft.Extensions.Hosting;

/// <summary>Hosting extensions that turn an Orleans silo into a MoeMesh silo.</summary>
public static class MoeMeshSiloBuilderExtensions
{
    /// <summary>
    /// Runs a MoeMesh silo in this host: binds the <c>MoeMesh</c> configuration section to
    /// <see cref="MoeMeshSiloOptions"/>, validated when the host starts (before the silo joins the
    /// mesh), and configures Orleans with MoeMesh's grains and the configured clustering.
    /// </summary>
    public static IHostApplicationBuilder AddMoeMeshSilo(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var contentRoot = builder.Environment.ContentRootPath;
        AddMoeMeshSiloOptions(builder.Services, configuration: null, _ => contentRoot);
        builder.UseOrleans(silo => silo.AddMoeMeshServices().UseMoeMeshClustering(builder.Configuration));
        return builder;
    }

    /// <summary>
    /// Adds MoeMesh's grains and services, configured from <paramref name="configuration"/>'s
    /// <c>MoeMesh</c> section (the host's configuration when null), bound and validated when the host starts.
    /// </summary>
    public static ISiloBuilder AddMoeMesh(this ISiloBuilder silo, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        AddMoeMeshSiloOptions(silo.Services, configuration, sp => (configuration ?? sp.GetRequiredService<IConfiguration>())["contentRoot"]);
        return silo.AddMoeMeshServices();
    }

    /// <summary>Adds MoeMesh's grains and services for an already resolved configuration.</summary>
    public static ISiloBuilder AddMoeMesh(this ISiloBuilder silo, MoeMeshSiloConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        silo.Services.AddSingleton(configuration);
        return silo.AddMoeMeshServices();
    }

    /// <summary>
    /// Configures membership, ports and the advertised address. Only the clustering provider and
    /// the TLS settings are read now, because they decide which services are registered (and Orleans
    /// takes the TLS certificate at registration); ports, cluster ids, membership tuning, connection
    /// strings and the advertised address (resolved through DNS if it is a host name) are read from
    /// <see cref="MoeMeshSiloOptions"/> when Orleans resolves its options.
    /// </summary>
    public static ISiloBuilder UseMoeMeshClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        var provider = MoeMeshClustering.Provider(configuration);
        var tls = MoeMeshClustering.Tls(configuration);
        switch (provider)
        {
            case ClusteringProvider.External:
                SiloTransportSecurity.Configure(silo, tls, lanEndpoints: false);
                return silo;

            case ClusteringProvider.Localhost:
                SiloTransportSecurity.Configure(silo, tls, lanEndpoints: false);
                MoeMeshClustering.ConfigureLocalhost(silo);
                return silo;

            case ClusteringProvider.Redis:
                RedisMembershipCheck.Configure(silo);
                break;

            case ClusteringProvider.Postgres:
                PostgresMembershipSchema.Configure(silo);
                break;

            default:
                // An undefined provider registers nothing: the options validator reports it at start with every other problem.
                return silo;
        }

        SiloTransportSecurity.Configure(silo, tls, lanEndpoints: true);
        MoeMeshClustering.ConfigureLan(silo);
        return silo;
    }

    /// <summary>
    /// Binds <see cref="MoeMeshSiloOptions"/>, validates them at start, and builds the silo's
    /// <see cref="MoeMeshSiloConfiguration"/> (device, manifests, budget) from them on first use.
    /// </summary>
    private static void AddMoeMeshSiloOptions(IServiceCollection services, IConfiguration? configuration, Func<IServiceProvider, string?> contentRoot)
    {
        // Bound through MoeMeshSiloConfiguration.Bind rather than BindConfiguration: a value the binder
        // cannot convert then reads as a MoeMesh configuration error naming the setting.
        var options = services.AddOptions<MoeMeshSiloOptions>();
        if (configuration is null)
        {
            options.Configure<IConfiguration>((o, host) => MoeMeshSiloConfiguration.Bind(host, o));
        }
        else
        {
            options.Configure(o => MoeMeshSiloConfiguration.Bind(configuration, o));
        }

        options.ValidateOnStart();
        services.TryAddSingleton(sp => new SiloContentRoot(contentRoot(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MoeMeshSiloOptions>, MoeMeshSiloOptionsValidator>());
        services.TryAddSingleton(sp => MoeMeshSiloConfiguration.Resolve(
            sp.GetRequiredService<IOptions<MoeMeshSiloOptions>>().Value, sp.GetRequiredService<SiloContentRoot>().Path));
    }

    /// <summary>MoeMesh's grains and services over the <see cref="MoeMeshSiloConfiguration"/> registered in the container.</summary>
    private static ISiloBuilder AddMoeMeshServices(this ISiloBuilder silo)
    {
        UseMoeMeshSiloMetadata(silo);
        silo.AddPlacementDirector<DeviceFitPlacement, DeviceFitPlacementDirector>();
        silo.AddMoeTokenPath();

        // Traces follow a query from the client through the router to every expert's silo.
        silo.AddActivityPropagation();

        var services = silo.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<MoeMeshSiloConfiguration>().Device);
        services.AddSingleton(sp => new LocalExpertManifests(sp.GetRequiredService<MoeMeshSiloConfiguration>().Experts));
        services.AddSingleton(sp => new ModelMemoryBudget(sp.GetRequiredService<MoeMeshSiloConfiguration>().ModelMemoryBudgetBytes));
        services.AddSingleton<SiloIdentity>();
        services.AddSingleton<ExpertEngineRegistry>();
        services.AddSingleton<MoeMesh.Grains.Experts.Engines.CalibrationGate>();
        services.AddSingleton(sp => new CancelledGenerations(sp.GetRequiredService<SiloIdentity>().Name));
        services.AddLlamaCppEngine($"{MoeMeshSiloOptions.SectionName}:Llama");

        services.TryAddSingleton(sp => EnergyMeterSelector.Select(
            sp.GetRequiredService<MoeMeshSiloConfiguration>().Options.Energy, sp.GetRequiredService<DeviceProfile>(), sp.GetRequiredService<TimeProvider>()));
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

    /// <summary>
    /// Publishes what placement needs to know about this silo (device, hosted experts, budget, gateway)
    /// as Orleans silo metadata, computed when Orleans resolves its <see cref="SiloMetadata"/> options.
    /// Orleans' <c>UseSiloMetadata</c> copies the dictionary it is given inside its own options
    /// callback; the callback registered just before it fills that dictionary from the configuration.
    /// </summary>
    private static void UseMoeMeshSiloMetadata(ISiloBuilder silo)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        silo.Services.AddOptions<SiloMetadata>().Configure<MoeMeshSiloConfiguration>((_, configuration) =>
        {
            foreach (var (key, value) in configuration.ToSiloMetadata())
            {
                metadata[key] = value;
            }
        });
        silo.UseSiloMetadata(metadata);
    }
}
