using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using MoeMesh.Security;

namespace MoeMesh.Grains.Hosting.Security;

/// <summary>
/// Who may talk to a silo: with a certificate configured, mutual TLS against the mesh CA on the silo
/// and gateway ports; without one, plain TCP only on the loopback, or off it by an explicit setting
/// that the silo repeats loudly at start.
/// </summary>
internal static class SiloTransportSecurity
{
    public const string AllowPlaintextSetting = MeshTlsOptions.SectionName + ":AllowPlaintext";

    /// <summary>
    /// Applies <paramref name="tls"/> to <paramref name="silo"/>. Orleans' <c>UseTls</c> takes the
    /// certificate when it is registered, so with TLS on the credentials are loaded now; with TLS off
    /// and <paramref name="lanEndpoints"/> (the silo may advertise a network address), the plain-TCP rule
    /// is checked once the advertised address is known (<see cref="CheckPlaintext"/>) and a warning is
    /// logged at start when plain TCP is allowed off the loopback.
    /// </summary>
    public static void Configure(ISiloBuilder silo, MeshTlsOptions tls, bool lanEndpoints)
    {
        if (tls.Enabled)
        {
            MeshCredentials credentials;
            try
            {
                credentials = MeshCertificates.Load(tls);
            }
            catch (MeshTlsException ex)
            {
                throw new MoeMeshConfigurationException(ex.Message, ex);
            }

            silo.UseTls(credentials.Certificate, o => MeshTls.Configure(o, credentials, tls, TimeProvider.System));

            // The activation data plane's TCP streams use the same credentials (DataPlaneSecurity).
            silo.Services.AddSingleton(credentials).AddSingleton(tls);
            return;
        }

        if (lanEndpoints)
        {
            silo.Services.AddHostedService(sp => new PlaintextWarning(
                sp.GetRequiredService<ILogger<PlaintextWarning>>(), sp.GetRequiredService<IOptions<EndpointOptions>>().Value.AdvertisedIPAddress));
        }
    }

    /// <summary>
    /// Refuses plain TCP on a network address unless <see cref="MeshTlsOptions.AllowPlaintext"/> says the
    /// network is trusted; with TLS on, or on the loopback, there is nothing to check.
    /// </summary>
    public static void CheckPlaintext(MeshTlsOptions tls, IPAddress advertised)
    {
        if (tls.Enabled || IPAddress.IsLoopback(advertised) || tls.AllowPlaintext)
        {
            return;
        }

        throw new MoeMeshConfigurationException(
            $"This silo would accept plain TCP on {advertised}: anyone on that network could join the mesh or call its grains. "
            + $"Configure {MeshTlsOptions.SectionName}:CertificatePath and CaPath (create them with `moemesh certs init` and `moemesh certs issue`), "
            + $"or set {AllowPlaintextSetting}=true for a network you trust.");
    }
}

/// <summary>Says at start, as a warning, that the silo talks plain TCP on a network address.</summary>
internal sealed partial class PlaintextWarning(ILogger<PlaintextWarning> logger, IPAddress? address) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Only a silo advertised off the loopback talks plain TCP to the network.
        if (address is not null && !IPAddress.IsLoopback(address))
        {
            LogPlaintext(logger, address, SiloTransportSecurity.AllowPlaintextSetting);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "UNENCRYPTED MESH: this silo listens on {Address} without TLS ({Setting}=true). Any host that reaches its ports can join the mesh and call every grain. Configure MoeMesh:Tls:CertificatePath and CaPath for any network you do not fully trust.")]
    private static partial void LogPlaintext(ILogger logger, IPAddress address, string setting);
}
