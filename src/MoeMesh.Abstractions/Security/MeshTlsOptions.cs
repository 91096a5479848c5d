namespace MoeMesh.Security;

/// <summary>
/// Transport security between silos and between clients and gateways, bound from <c>MoeMesh:Tls</c>.
/// With a certificate configured, every connection is mutual TLS and the other side must present a
/// certificate signed by the mesh's own certificate authority (<see cref="CaPath"/>).
/// </summary>
public sealed class MeshTlsOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "MoeMesh:Tls";

    /// <summary>This box's certificate: a PEM file (key in <see cref="KeyPath"/> or in the same file) or a PKCS#12 file (.pfx, .p12).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is not in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>Instead of files: the thumbprint of a certificate with its key in the current user's personal store.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>The mesh CA's certificate (PEM); the only trust anchor for the other side's certificate.</summary>
    public string? CaPath { get; set; }

    /// <summary>Lets a silo use plain TCP on a non-loopback address (a lab network, a VPN that already encrypts).</summary>
    public bool AllowPlaintext { get; set; }

    /// <summary>The longest a TLS handshake may take.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether a certificate is configured, so connections use TLS.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath) || !string.IsNullOrWhiteSpace(CertificateThumbprint);

    /// <summary>Every problem with these settings that can be seen without reading the files; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            if (!string.IsNullOrWhiteSpace(CaPath) || !string.IsNullOrWhiteSpace(KeyPath))
            {
                problems.Add($"{SectionName}:CertificatePath (or CertificateThumbprint) is required when {SectionName}:CaPath or KeyPath is set");
            }

            return problems;
        }

        if (!string.IsNullOrWhiteSpace(CertificatePath) && !string.IsNullOrWhiteSpace(CertificateThumbprint))
        {
            problems.Add($"{SectionName}: set CertificatePath or CertificateThumbprint, not both");
        }

        CheckFile(problems, "CertificatePath", CertificatePath);
        CheckFile(problems, "KeyPath", KeyPath);
        if (string.IsNullOrWhiteSpace(CaPath))
        {
            problems.Add($"{SectionName}:CaPath is required with a certificate: the mesh CA is the only authority trusted for the other side");
        }
        else
        {
            CheckFile(problems, "CaPath", CaPath);
        }

        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(2))
        {
            problems.Add($"{SectionName}:HandshakeTimeout must be between 0 and 2 minutes, got {HandshakeTimeout}");
        }

        return problems;
    }

    private static void CheckFile(List<string> problems, string key, string? path)
    {
        if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
        {
            problems.Add($"{SectionName}:{key} '{path}' does not exist");
        }
    }
}
