using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Client;
using MoeMesh.Security;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Messaging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the MoeMesh SDK.</summary>
public static class MoeMeshClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds an Orleans client connected to the mesh's gateways, <see cref="IMoeMeshClient"/>, and an
    /// <see cref="IChatClient"/> backed by the mesh, registered through Microsoft.Extensions.AI's
    /// <see cref="ChatClientBuilder"/> so <paramref name="configureChat"/> can compose middleware
    /// (<c>UseOpenTelemetry()</c>, <c>UseLogging()</c>, <c>UseDistributedCache()</c>) around it.
    /// <see cref="MoeMeshClientOptions"/> are bound from the <c>MoeMesh:Client</c> section, then
    /// <paramref name="configure"/> runs; they are checked when the host starts, and gateway names are
    /// resolved only when the client connects.
    /// </summary>
    public static IServiceCollection AddMoeMeshClient(
        this IServiceCollection services,
        Action<MoeMeshClientOptions>? configure = null,
        Action<ChatClientBuilder>? configureChat = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MoeMeshClientOptions>().BindConfiguration(MoeMeshClientOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MoeMeshClientOptions>, MoeMeshClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddOrleansClient(client =>
        {
            client.Services.AddSingleton<IGatewayListProvider, MoeMeshGatewayListProvider>();
            client.AddActivityPropagation();
            client.Services.AddOptions<ClusterOptions>().Configure<IOptions<MoeMeshClientOptions>>((cluster, mesh) =>
            {
                cluster.ClusterId = mesh.Value.ClusterId;
                cluster.ServiceId = mesh.Value.ServiceId;
            });
            client.Services.AddOptions<ClientConnectionOptions>().Configure<IOptions<MoeMeshClientOptions>, TimeProvider>(UseMeshTls);
        });
        services.AddSingleton<IMoeMeshClient>(sp => new MoeMeshClient(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        var chat = services.AddChatClient(sp => new MoeMeshChatClient(
            sp.GetRequiredService<IMoeMeshClient>(),
            sp.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value.DefaultQueryOptions,
            sp.GetRequiredService<TimeProvider>()));
        configureChat?.Invoke(chat);
        return services;
    }

    /// <summary>Parses "host:port" gateway endpoints and resolves their names now; empty means the local mesh.</summary>
    public static IPEndPoint[] ParseGateways(IReadOnlyList<string> gateways)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        var list = gateways.Count == 0 ? [MoeMeshClientOptions.LocalGateway] : gateways;
        return [.. list.Select(text => GatewayEndpoint.Parse(text).ResolveAsync().GetAwaiter().GetResult())];
    }

    /// <summary>Mutual TLS on every gateway connection when the options name a certificate; the files are read when the client connects.</summary>
    private static void UseMeshTls(ClientConnectionOptions connection, IOptions<MoeMeshClientOptions> mesh, TimeProvider time)
    {
        var settings = mesh.Value.Tls;
        if (!settings.Enabled)
        {
            return;
        }

        var credentials = MeshCertificates.Load(settings, time);
        var tls = new TlsOptions();
        MeshTls.Configure(tls, credentials, settings, time);
        connection.ConfigureConnection(connectionBuilder => connectionBuilder.UseClientTls(tls));
    }
}
