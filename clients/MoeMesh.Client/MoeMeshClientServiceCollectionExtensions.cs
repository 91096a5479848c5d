using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Client;
using MoeMesh.Security;
using Orleans.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the MoeMesh SDK.</summary>
public static class MoeMeshClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds an Orleans client connected to the mesh's gateways, <see cref="IMoeMeshClient"/>, and an
    /// <see cref="IChatClient"/> backed by the mesh, registered through Microsoft.Extensions.AI's
    /// <see cref="ChatClientBuilder"/> so <paramref name="configureChat"/> can compose middleware
    /// (<c>UseOpenTelemetry()</c>, <c>UseLogging()</c>, <c>UseDistributedCache()</c>) around it.
    /// The connection opens when the host starts.
    /// </summary>
    public static IServiceCollection AddMoeMeshClient(
        this IServiceCollection services,
        Action<MoeMeshClientOptions>? configure = null,
        Action<ChatClientBuilder>? configureChat = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new MoeMeshClientOptions();
        configure?.Invoke(options);
        var gateways = ParseGateways(options.Gateways);

        // Certificates are read now, so a missing file or a foreign CA fails here, not at the first call.
        var credentials = options.Tls.Enabled || options.Tls.Problems().Count > 0 ? MeshCertificates.Load(options.Tls) : null;

        services.AddOptions<MoeMeshClientOptions>().Configure(o =>
        {
            o.Gateways = options.Gateways;
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
            o.DefaultQueryOptions = options.DefaultQueryOptions;
            o.MaxQueryRetries = options.MaxQueryRetries;
            o.RetryDelay = options.RetryDelay;
            o.RouterSilenceTimeout = options.RouterSilenceTimeout;
            o.Tls = options.Tls;
        }).ValidateDataAnnotations().ValidateOnStart();

        services.AddOrleansClient(client =>
        {
            client.UseStaticClustering(gateways);
            client.AddActivityPropagation();
            if (credentials is not null)
            {
                client.UseTls(credentials.Certificate, o => MeshTls.Configure(o, credentials, options.Tls, TimeProvider.System));
            }

            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
        });
        services.AddSingleton<IMoeMeshClient>(sp => new MoeMeshClient(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value));
        var chat = services.AddChatClient(sp => new MoeMeshChatClient(
            sp.GetRequiredService<IMoeMeshClient>(),
            sp.GetRequiredService<IOptions<MoeMeshClientOptions>>().Value.DefaultQueryOptions));
        configureChat?.Invoke(chat);
        return services;
    }

    /// <summary>Parses "host:port" gateway endpoints; empty means the local mesh.</summary>
    public static IPEndPoint[] ParseGateways(IReadOnlyList<string> gateways)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        var list = gateways.Count == 0 ? [MoeMeshClientOptions.LocalGateway] : gateways;
        return list.Select(ParseGateway).ToArray();
    }

    private static IPEndPoint ParseGateway(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"Gateway '{text}' is not of the form host:port.", nameof(text));
        }

        var host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip))
        {
            return new IPEndPoint(ip, port);
        }

        try
        {
            var address = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new ArgumentException($"Gateway host '{host}' has no IPv4 address.", nameof(text));
            return new IPEndPoint(address, port);
        }
        catch (SocketException ex)
        {
            throw new ArgumentException($"Gateway host '{host}' cannot be resolved: {ex.Message}", nameof(text), ex);
        }
    }
}
