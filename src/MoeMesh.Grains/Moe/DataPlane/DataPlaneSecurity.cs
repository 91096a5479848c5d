using System.Net.Security;
using System.Net.Sockets;
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

    /// <summary>
    /// The server side of a new connection, on the calling thread: the stream to read the token and
    /// frames from. The handshake is given the configured time through the socket's timeouts.
    /// </summary>
    /// <remarks>
    /// Blocking on purpose: a socket that has never served an asynchronous operation stays a blocking
    /// socket, whose reads the kernel completes straight into the waiting thread; one async operation
    /// would turn it non-blocking for good, and every later read would wait on the socket engine's thread.
    /// </remarks>
    /// <exception cref="AuthenticationException">The peer has no mesh certificate or the handshake failed.</exception>
    public Stream Accept(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var network = new NetworkStream(socket, ownsSocket: false);
        if (credentials is null)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false, Validate);
        try
        {
            Handshake(socket, () => tls.AuthenticateAsServer(new SslServerAuthenticationOptions
            {
                ServerCertificate = credentials.Certificate,
                ClientCertificateRequired = true,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }));
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    /// <summary>The client side of a new connection to <paramref name="host"/>, on the calling thread (see <see cref="Accept"/>).</summary>
    /// <exception cref="AuthenticationException">The peer has no mesh certificate or the handshake failed.</exception>
    public Stream Connect(Socket socket, string host)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var network = new NetworkStream(socket, ownsSocket: false);
        if (credentials is null)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false, Validate);
        try
        {
            Handshake(socket, () => tls.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificates = [credentials.Certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => credentials.Certificate,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }));
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    /// <summary>Bounds a blocking handshake by the socket's timeouts, put back to none once it is done.</summary>
    private void Handshake(Socket socket, Action handshake)
    {
        var milliseconds = (int)Math.Clamp(Math.Ceiling(handshakeTimeout.TotalMilliseconds), 1, int.MaxValue);
        socket.ReceiveTimeout = socket.SendTimeout = milliseconds;
        try
        {
            handshake();
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw new AuthenticationException($"The TLS handshake did not complete within {handshakeTimeout.TotalSeconds:0.#} s.", ex);
        }

        socket.ReceiveTimeout = socket.SendTimeout = 0;
    }

    // The platform's verdict (system roots, host names) is ignored on purpose, as on the silo ports:
    // boxes are reached by changing LAN addresses and the mesh CA is the only authority that counts.
    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => certificate is X509Certificate2 presented && MeshCertificates.IsSignedBy(presented, credentials!.Authority, time, out _);
}
