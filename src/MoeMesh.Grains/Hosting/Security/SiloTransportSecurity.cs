using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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

    /// <summary>Applies <paramref name="tls"/> to <paramref name="silo"/>; <paramref name="advertised"/> is null when the host configures endpoints itself.</summary>
    public static void Configure(ISiloBuilder silo, MeshTlsOptions tls, IPAddress? advertised)
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

        if (advertised is null || IPAddress.IsLoopback(advertised))
        {
            return;
        }

        if (!tls.AllowPlaintext)
        {
            throw new MoeMeshConfigurationException(
                $"This silo would accept plain TCP on {advertised}: anyone on that network could join the mesh or call its grains. "
                + $"Configure {MeshTlsOptions.SectionName}:CertificatePath and CaPath (create them with `moemesh certs init` and `moemesh certs issue`), "
                + $"or set {AllowPlaintextSetting}=true for a network you trust.");
        }

        silo.Services.AddHostedService(sp => new PlaintextWarning(sp.GetRequiredService<ILogger<PlaintextWarning>>(), advertised));
    }
}

/// <summary>Says at start, as a warning, that the silo talks plain TCP on a network address.</summary>
internal sealed partial class PlaintextWarning(ILogger<PlaintextWarning> logger, IPAddress address) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogPlaintext(logger, address, SiloTransportSecurity.AllowPlaintextSetting);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "UNENCRYPTED MESH: this silo listens on {Address} without TLS ({Setting}=true). Any host that reaches its ports can join the mesh and call every grain. Configure MoeMesh:Tls:CertificatePath and CaPath for any network you do not fully trust.")]
    private static partial void LogPlaintext(ILogger logger, IPAddress address, string setting);
}
