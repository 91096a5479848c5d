using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Grains.Hosting.Security;
using MoeMesh.Security;
using Orleans.Configuration;

namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>
/// Orleans' cluster, membership and endpoint options, filled from <see cref="MoeMeshSiloOptions"/>
/// when Orleans resolves them; and the two settings read while the host is built.
/// </summary>
internal static class MoeMeshClustering
{
    private const string ProviderSetting = $"{MoeMeshSiloOptions.SectionName}:{nameof(MoeMeshSiloOptions.Clustering)}:{nameof(ClusteringOptions.Provider)}";

    /// <summary>The configured membership provider: it decides which membership services are registered.</summary>
    public static ClusteringProvider Provider(IConfiguration configuration)
    {
        try
        {
            return configuration.GetValue(ProviderSetting, ClusteringProvider.Localhost);
        }
        catch (InvalidOperationException ex)
        {
            throw new MoeMeshConfigurationException($"MoeMesh configuration cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>The TLS settings: whether TLS is on decides the transport, and Orleans takes the certificate at registration.</summary>
    public static MeshTlsOptions Tls(IConfiguration configuration)
    {
        var tls = new MeshTlsOptions();
        try
        {
            configuration.GetSection($"{MoeMeshSiloOptions.SectionName}:{nameof(MoeMeshSiloOptions.Tls)}").Bind(tls);
        }
        catch (InvalidOperationException ex)
        {
            throw new MoeMeshConfigurationException($"MoeMesh configuration cannot be read: {ex.Message}", ex);
        }

        return tls;
    }

    /// <summary>Every silo on this machine: loopback endpoints, the primary silo's port as the membership seed.</summary>
    public static void ConfigureLocalhost(ISiloBuilder silo)
    {
        ConfigureCluster(silo);
        silo.Services.AddOptions<EndpointOptions>().Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
        {
            o.AdvertisedIPAddress = IPAddress.Loopback;
            o.SiloPort = moeMesh.Value.Endpoints.SiloPort;
            o.GatewayPort = moeMesh.Value.Endpoints.GatewayPort;
        });
        silo.UseDevelopmentClustering((OptionsBuilder<DevelopmentClusterMembershipOptions> development) =>
            development.Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
                o.PrimarySiloEndpoint = new IPEndPoint(IPAddress.Loopback, moeMesh.Value.Endpoints.PrimarySiloPort)));
    }

    /// <summary>
    /// Silos on several boxes: the advertised address is resolved (DNS for a host name) when Orleans
    /// resolves its endpoints; a silo advertised on the loopback listens only there, any other address
    /// is reachable from the LAN, and then plain TCP needs the explicit setting.
    /// </summary>
    public static void ConfigureLan(ISiloBuilder silo)
    {
        ConfigureCluster(silo);
        silo.Services.AddOptions<EndpointOptions>().Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
        {
            var endpoints = moeMesh.Value.Endpoints;
            var advertised = ResolveAdvertisedAddress(endpoints.AdvertisedAddress);
            SiloTransportSecurity.CheckPlaintext(moeMesh.Value.Tls, advertised);
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = endpoints.SiloPort;
            o.GatewayPort = endpoints.GatewayPort;
            if (!IPAddress.IsLoopback(advertised))
            {
                o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, endpoints.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, endpoints.GatewayPort);
            }
        });
    }

    private static void ConfigureCluster(ISiloBuilder silo)
    {
        silo.Services.AddOptions<ClusterOptions>().Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
        {
            o.ClusterId = moeMesh.Value.Clustering.ClusterId;
            o.ServiceId = moeMesh.Value.Clustering.ServiceId;
        });
        silo.Services.AddOptions<ClusterMembershipOptions>().Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
            MembershipTuning.Apply(moeMesh.Value.Membership, o));
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
