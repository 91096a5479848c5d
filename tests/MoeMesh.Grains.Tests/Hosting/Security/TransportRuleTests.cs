using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Tests.Hosting.Clustering;
using MoeMesh.Security;
using Orleans.Configuration;

namespace MoeMesh.Grains.Tests.Hosting.Security;

/// <summary>Which certificates count, and when a silo may talk plain TCP.</summary>
public sealed class TransportRuleTests : IDisposable
{
    private readonly MeshCertificateFiles _certificates = new();

    [Fact]
    public void Only_a_certificate_the_mesh_CA_signed_is_valid_under_it()
    {
        var member = MeshCertificates.Load(_certificates.Issue("member"));
        var stranger = _certificates.Issue("stranger", foreign: true);
        stranger.CaPath = _certificates.CaPath;

        Assert.True(MeshCertificates.IsSignedBy(member.Certificate, member.Authority, TimeProvider.System, out _));
        var error = Assert.Throws<MeshTlsException>(() => MeshCertificates.Load(stranger));
        Assert.Contains("not valid under the mesh CA", error.Message);
        var tooLate = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(3));
        Assert.False(MeshCertificates.IsSignedBy(member.Certificate, member.Authority, tooLate, out _));
    }

    [Fact]
    public void A_LAN_silo_without_certificates_needs_the_explicit_plaintext_setting()
    {
        var settings = ClusteringHarness.SiloSettings("Redis", "127.0.0.1:6379,abortConnect=false", "plaintext");
        settings["MoeMesh:Endpoints:AdvertisedAddress"] = "192.0.2.10";

        // The rule is checked when Orleans resolves the silo's endpoints, before the silo listens or joins.
        using (var refused = ClusteringHarness.BuildSilo(settings))
        {
            var error = Assert.Throws<MoeMeshConfigurationException>(() => refused.Services.GetRequiredService<IOptions<EndpointOptions>>().Value);
            Assert.Contains("MoeMesh:Tls:AllowPlaintext=true", error.Message);
            Assert.Contains("moemesh certs init", error.Message);
        }

        settings["MoeMesh:Tls:AllowPlaintext"] = "true";
        using var allowed = ClusteringHarness.BuildSilo(settings);
        Assert.Equal(System.Net.IPAddress.Parse("192.0.2.10"), allowed.Services.GetRequiredService<IOptions<EndpointOptions>>().Value.AdvertisedIPAddress);
    }

    [Fact]
    public void Incomplete_TLS_settings_are_rejected_naming_the_keys()
    {
        var error = Assert.Throws<MoeMeshConfigurationException>(() => MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
        {
            Tls = new MeshTlsOptions { CertificatePath = Path.Combine(_certificates.Folder, "missing.crt") },
        }));

        Assert.Contains("MoeMesh:Tls:CertificatePath", error.Message);
        Assert.Contains("does not exist", error.Message);
        Assert.Contains("MoeMesh:Tls:CaPath is required", error.Message);
    }

    public void Dispose() => _certificates.Dispose();
}
