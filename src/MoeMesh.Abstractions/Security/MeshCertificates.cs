using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MoeMesh.Security;

/// <summary>
/// Loads a box's certificate and the mesh CA, and decides whether a certificate was signed by the
/// mesh CA. The system's trust store plays no part: a certificate from any other authority, public
/// or private, is refused.
/// </summary>
public static class MeshCertificates
{
    /// <summary>Loads the box certificate and the CA named by <paramref name="options"/>; throws <see cref="MeshTlsException"/> naming the key.</summary>
    public static MeshCredentials Load(MeshTlsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new MeshTlsException(string.Join("; ", problems));
        }

        if (!options.Enabled)
        {
            throw new MeshTlsException($"{MeshTlsOptions.SectionName}:CertificatePath is not set.");
        }

        var authority = LoadAuthority(options.CaPath!);
        var certificate = LoadCertificate(options);
        if (!certificate.HasPrivateKey)
        {
            throw new MeshTlsException($"{MeshTlsOptions.SectionName}: the certificate '{certificate.Subject}' comes without its private key; set KeyPath or use a file that holds both.");
        }

        if (!IsSignedBy(certificate, authority, time ?? TimeProvider.System, out var reason))
        {
            throw new MeshTlsException($"{MeshTlsOptions.SectionName}: this box's certificate '{certificate.Subject}' is not valid under the mesh CA '{authority.Subject}': {reason}");
        }

        return new MeshCredentials(certificate, authority);
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to <paramref name="authority"/> and nothing else,
    /// is within its validity period, and may be used for TLS; <paramref name="reason"/> says why not.
    /// </summary>
    public static bool IsSignedBy(X509Certificate2 certificate, X509Certificate2 authority, TimeProvider time, out string reason)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(time);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        if (!chain.Build(certificate))
        {
            reason = string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("the chain does not build"));
            return false;
        }

        // A chain that builds must also end at the mesh CA itself, not at some root that signed it.
        var root = chain.ChainElements[^1].Certificate;
        if (!root.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span))
        {
            reason = $"it chains to '{root.Subject}', not to the mesh CA";
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>Reads the CA certificate (PEM or DER).</summary>
    public static X509Certificate2 LoadAuthority(string path)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new MeshTlsException($"{MeshTlsOptions.SectionName}:CaPath '{path}' is not a readable certificate: {ex.Message}", ex);
        }
    }

    private static X509Certificate2 LoadCertificate(MeshTlsOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.CertificateThumbprint))
        {
            return FromStore(options.CertificateThumbprint);
        }

        var path = options.CertificatePath!;
        try
        {
            var extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension is ".pfx" or ".p12")
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
            }

            var keyPath = string.IsNullOrWhiteSpace(options.KeyPath) ? path : options.KeyPath;
            return string.IsNullOrEmpty(options.Password)
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, keyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new MeshTlsException($"{MeshTlsOptions.SectionName}:CertificatePath '{path}' cannot be loaded with its key: {ex.Message}", ex);
        }
    }

    private static X509Certificate2 FromStore(string thumbprint)
    {
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint.Replace(" ", "", StringComparison.Ordinal), validOnly: false);
        return found.Count > 0
            ? found[0]
            : throw new MeshTlsException($"{MeshTlsOptions.SectionName}:CertificateThumbprint {thumbprint} is not in the current user's personal store.");
    }
}

/// <summary>A box's certificate with its key, and the mesh CA it must chain to.</summary>
public sealed record MeshCredentials(X509Certificate2 Certificate, X509Certificate2 Authority);

/// <summary>TLS settings that cannot be used: a missing file, a certificate without its key, one the mesh CA did not sign.</summary>
public sealed class MeshTlsException : Exception
{
    public MeshTlsException(string message)
        : base(message)
    {
    }

    public MeshTlsException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
