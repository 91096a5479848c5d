using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MoeMesh.Security;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// How the activation data plane's connections are secured. With the mesh's TLS configured
/// (<c>MoeMesh:Tls</c>), every connection is mutual TLS against the mesh CA, as the silo and gateway
/// ports are: each side presents its mesh certificate and accepts only one the mesh CA signed, before
/// the connection's token is even read. Without it, connections are plain TCP, which the silo allows
/// only on the loopback or by explicit setting (see <c>SiloTransportSecurity</c>).
/// </summary>
internal sealed class DataPlaneSecurity(MeshCredentials? credentials, TimeSpan handshakeTimeout, TimeProvider time)
{
    /// <summary>Plain TCP: the mesh runs without TLS.</summary>
    public static DataPlaneSecurity Plaintext { get; } = new(null, TimeSpan.Zero, TimeProvider.System);

    public bool IsTls => credentials is not null;

    /// <summary>The server side of a new connection: the stream to read the token and frames from.</summary>
    /// <exception cref="AuthenticationException">The peer has no mesh certificate or the handshake failed.</exception>
    public async Task<Stream> AcceptAsync(Stream network, CancellationToken cancellationToken)
    {
        if (credentials is null)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false, Validate);
        try
        {
            using var timeout = HandshakeTimeout(cancellationToken);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = credentials.Certificate,
                ClientCertificateRequired = true,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, timeout.Token);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    /// <summary>The client side of a new connection to <paramref name="host"/>.</summary>
    /// <exception cref="AuthenticationException">The peer has no mesh certificate or the handshake failed.</exception>
    public async Task<Stream> ConnectAsync(Stream network, string host, CancellationToken cancellationToken)
    {
        if (credentials is null)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false, Validate);
        try
        {
            using var timeout = HandshakeTimeout(cancellationToken);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificates = [credentials.Certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => credentials.Certificate,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, timeout.Token);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    private CancellationTokenSource HandshakeTimeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(handshakeTimeout);
        return timeout;
    }

    // The platform's verdict (system roots, host names) is ignored on purpose, as on the silo ports:
    // boxes are reached by changing LAN addresses and the mesh CA is the only authority that counts.
    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => certificate is X509Certificate2 presented && MeshCertificates.IsSignedBy(presented, credentials!.Authority, time, out _);
}
