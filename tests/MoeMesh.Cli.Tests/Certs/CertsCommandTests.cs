using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MoeMesh.Security;

namespace MoeMesh.Cli.Tests.Certs;

/// <summary><c>moemesh certs init|issue</c>: a CA and box certificates that pass the mesh's own check.</summary>
public sealed class CertsCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moemesh-certs-").FullName;

    [Fact]
    public async Task Init_and_issue_make_a_box_certificate_the_mesh_CA_signed()
    {
        var (init, _, initError) = await CliRunner.RunAsync("certs", "init", "--dir", _folder);
        var (issue, output, issueError) = await CliRunner.RunAsync("certs", "issue", "jetson-1", "--dir", _folder, "--ip", "192.168.1.21", "--json");

        Assert.True(init == 0, initError);
        Assert.True(issue == 0, issueError);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(["jetson-1", "192.168.1.21"], json.RootElement.GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        var credentials = MeshCertificates.Load(new MeshTlsOptions
        {
            CertificatePath = Path.Combine(_folder, "jetson-1.crt"),
            KeyPath = Path.Combine(_folder, "jetson-1.key"),
            CaPath = Path.Combine(_folder, "ca.crt"),
        });
        Assert.True(credentials.Certificate.HasPrivateKey);
        Assert.Contains(credentials.Certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "jetson-1.key")));
        }
    }

    [Fact]
    public async Task Init_does_not_replace_a_CA_and_issue_without_one_is_a_usage_error()
    {
        var (missing, _, missingError) = await CliRunner.RunAsync("certs", "issue", "box", "--dir", _folder);
        await CliRunner.RunAsync("certs", "init", "--dir", _folder);
        var (again, _, againError) = await CliRunner.RunAsync("certs", "init", "--dir", _folder);
        var (badIp, _, badIpError) = await CliRunner.RunAsync("certs", "issue", "box", "--dir", _folder, "--ip", "not-an-address");

        Assert.Equal(2, missing);
        Assert.Contains("cannot be read", missingError);
        Assert.Equal(2, again);
        Assert.Contains("--force", againError);
        Assert.Equal(2, badIp);
        Assert.Contains("not an IP address", badIpError);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
