using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Activations;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Grains.Tests.Hosting.Clustering;
using MoeMesh.Grains.Tests.Hosting.Security;
using MoeMesh.Security;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe.DataPlane;

/// <summary>
/// Two silos with <c>MoeMesh:Tls</c> configured: their activation data plane is mutual TLS against the
/// mesh CA, and a peer that holds a valid connection token but no mesh certificate gets no frame through.
/// </summary>
public sealed class DataPlaneTlsTests : IDisposable
{
    private readonly MeshCertificateFiles _certificates = new();

    [Fact]
    public async Task The_data_plane_between_TLS_silos_is_mutual_TLS_and_refuses_peers_without_a_mesh_certificate()
    {
        var clusterId = "dp-tls-" + Guid.NewGuid().ToString("N")[..8];
        var primary = FreePort.Next();
        IHost[] silos = [];
        try
        {
            silos = await ClusteringHarness.StartSilosAsync(
                Settings(clusterId, primary, primary, _certificates.Issue("silo-a")),
                Settings(clusterId, FreePort.Next(), primary, _certificates.Issue("silo-b")));
            var (a, b) = (silos[0].Services, silos[1].Services);
            await WaitForMembersAsync(a, 2);
            var grains = a.GetRequiredService<IGrainFactory>();
            var (nameA, nameB) = (a.GetRequiredService<SiloIdentity>().Name, b.GetRequiredService<SiloIdentity>().Name);
            var security = a.GetRequiredService<DataPlaneSecurity>();
            Assert.True(security.IsTls);

            // Silo to silo, frames cross the TLS stream.
            var measurement = await grains.GetGrain<IActivationHopGrain>(nameA).MeasureAsync(nameB, 64, ActivationDType.F32, 20);
            Assert.True(measurement.TcpP50Us > 0);

            // Each intruder holds the right token (as if it had leaked), but not a mesh certificate.
            var endpoint = await grains.GetGrain<IActivationHopGrain>(nameB).OpenDataPlaneAsync();
            var frame = HopEcho.SampleInput(16, ActivationDType.F32);
            await AssertRefusedAsync(async () =>
            {
                using var plain = await ActivationDataPlaneClient.ConnectAsync(endpoint, DataPlaneSecurity.Plaintext, CancellationToken.None);
                plain.Exchange(frame, TimeSpan.FromSeconds(30));
            });
            await AssertRefusedAsync(() => ExchangeOverTlsAsync(endpoint, clientCertificate: null, frame));
            var stranger = MeshCertificates.Load(_certificates.Issue("stranger", foreign: true)).Certificate;
            await AssertRefusedAsync(() => ExchangeOverTlsAsync(endpoint, stranger, frame));

            // A peer with the mesh's certificate still gets its frame answered.
            using var member = await ActivationDataPlaneClient.ConnectAsync(endpoint, security, CancellationToken.None);
            var reply = ActivationFrameCodec.Decode(member.Exchange(frame, TimeSpan.FromSeconds(30)));
            Assert.Equal(16, reply.HiddenSize);
        }
        finally
        {
            await ClusteringHarness.StopAllAsync(silos);
        }
    }

    public void Dispose() => _certificates.Dispose();

    /// <summary>TLS that trusts any server and presents <paramref name="clientCertificate"/> (or none), then the token and a frame.</summary>
    private static async Task ExchangeOverTlsAsync(DataPlaneEndpoint endpoint, X509Certificate2? clientCertificate, byte[] frame)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate!,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        }, timeout.Token);
        await tls.WriteAsync(endpoint.Token, timeout.Token);
        using var buffer = new FrameBuffer();
        DataPlaneFraming.Begin(buffer).Write(frame);
        client.ReceiveTimeout = 30_000;
        DataPlaneFraming.Send(tls, buffer);
        if (!DataPlaneFraming.Read(tls, buffer, ActivationFrameLimits.Default.MaxFrameBytes))
        {
            throw new IOException("The data plane closed the connection without a reply.");
        }
    }

    /// <summary>The attempt ends in a refused handshake or a closed connection, never in a reply.</summary>
    private static async Task AssertRefusedAsync(Func<Task> attempt)
    {
        var refusal = await Assert.ThrowsAnyAsync<Exception>(attempt);
        Assert.True(refusal is IOException or AuthenticationException or SocketException, $"unexpected {refusal.GetType().Name}: {refusal.Message}");
    }

    private static async Task WaitForMembersAsync(IServiceProvider silo, int count)
    {
        var membership = silo.GetRequiredService<IClusterMembershipService>();
        using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
        while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) < count)
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    private static Dictionary<string, string?> Settings(string clusterId, int siloPort, int primaryPort, MeshTlsOptions tls)
        => ClusteringHarness.TlsSiloSettings(clusterId, siloPort, primaryPort, tls);
}
