using Orleans.Connections.Security;

namespace MoeMesh.Security;

/// <summary>The one TLS policy silos and clients share: mutual authentication against the mesh CA only.</summary>
public static class MeshTls
{
    /// <summary>
    /// Sets <paramref name="tls"/> to present <paramref name="credentials"/>' certificate, to require one
    /// from the other side in both directions, and to accept it only when the mesh CA signed it.
    /// </summary>
    public static void Configure(TlsOptions tls, MeshCredentials credentials, MeshTlsOptions settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        tls.LocalCertificate = credentials.Certificate;
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.HandshakeTimeout = settings.HandshakeTimeout;

        // The platform's verdict (system roots, host names) is ignored on purpose: boxes are reached
        // by changing LAN addresses and the mesh CA is the only authority that counts.
        tls.RemoteCertificateValidation = (certificate, _, _) =>
            certificate is not null && MeshCertificates.IsSignedBy(certificate, credentials.Authority, time, out _);
    }
}
