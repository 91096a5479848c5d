using System.Net;
using MoeMesh.Security;

namespace MoeMesh.Grains.Tests.Hosting.Security;

/// <summary>A throwaway folder with a mesh CA, a second unrelated CA, and box certificates issued by either.</summary>
internal sealed class MeshCertificateFiles : IDisposable
{
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _mesh;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _foreign;

    public MeshCertificateFiles()
    {
        Folder = Directory.CreateTempSubdirectory("moemesh-tls-").FullName;
        _mesh = MeshCertificateAuthority.CreateAuthority("Test mesh CA", TimeSpan.FromDays(1));
        _foreign = MeshCertificateAuthority.CreateAuthority("Some other CA", TimeSpan.FromDays(1));
        MeshCertificateAuthority.WritePem(_mesh, CaPath, Path.Combine(Folder, "ca.key"));
        MeshCertificateAuthority.WritePem(_foreign, ForeignCaPath, Path.Combine(Folder, "foreign-ca.key"));
    }

    public string Folder { get; }

    public string CaPath => Path.Combine(Folder, "ca.crt");

    public string ForeignCaPath => Path.Combine(Folder, "foreign-ca.crt");

    /// <summary>Issues <paramref name="name"/>'s certificate from the mesh CA, or from the other CA when <paramref name="foreign"/>.</summary>
    public MeshTlsOptions Issue(string name, bool foreign = false)
    {
        using var box = MeshCertificateAuthority.Issue(foreign ? _foreign : _mesh, name, ["localhost"], [IPAddress.Loopback], TimeSpan.FromHours(2));
        var options = new MeshTlsOptions
        {
            CertificatePath = Path.Combine(Folder, name + ".crt"),
            KeyPath = Path.Combine(Folder, name + ".key"),
            CaPath = foreign ? ForeignCaPath : CaPath,
        };
        MeshCertificateAuthority.WritePem(box, options.CertificatePath, options.KeyPath);
        return options;
    }

    public void Dispose()
    {
        _mesh.Dispose();
        _foreign.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
