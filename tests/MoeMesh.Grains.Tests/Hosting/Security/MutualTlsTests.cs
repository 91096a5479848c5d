using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Catalog;
using MoeMesh.Client;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Engines;
using MoeMesh.Queries;
using MoeMesh.Grains.Tests.Hosting.Clustering;
using MoeMesh.Security;
using Orleans.Runtime;

namespace MoeMesh.Grains.Tests.Hosting.Security;

/// <summary>
/// Silos configured with <c>MoeMesh:Tls:*</c> as an edge box runs them: silo-to-silo and
/// client-to-gateway traffic is mutual TLS, and only certificates the mesh CA signed get in.
/// </summary>
public sealed class MutualTlsTests : IDisposable
{
    /// <summary>How long a refused party is given to get in; a legitimate one takes a second or two.</summary>
    private static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(8);

    private readonly MeshCertificateFiles _certificates = new();
    private readonly ManifestFiles _manifests = new();
    private readonly EngineProbe _probe = new();

    /// <summary>A general expert that only a desktop GPU box may host.</summary>
    private static readonly ExpertManifest GpuExpert = ManifestFiles.Scripted("gpu-general", ["general"]) with
    {
        Placement = new PlacementConstraints { DeviceKinds = [DeviceKind.DesktopGpu] },
    };

    public MutualTlsTests() => _manifests.Write(GpuExpert);

    /// <summary>Scripted engines stand in for llama.cpp, registered after MoeMesh's own engines so they win.</summary>
    private void WithScriptedEngine(IServiceCollection services)
    {
        services.AddSingleton(_probe);
        services.AddSingleton<IExpertEngineProvider, ScriptedEngineProvider>();
    }

    [Fact]
    public async Task A_mesh_of_two_TLS_silos_answers_a_query_from_a_client_with_a_mesh_certificate()
    {
        var (first, second) = TwoSilos(_certificates.Issue("silo-a"), _certificates.Issue("silo-b"));
        foreach (var settings in new[] { first, second })
        {
            settings["MoeMesh:Experts:Manifests:0"] = _manifests.Folder;
            settings["MoeMesh:Energy:Meter"] = "Model";
        }

        // The expert fits only the second silo's GPU box and the client knows only the first silo's
        // gateway, so the query crosses both TLS links: client to gateway and silo to silo.
        second["MoeMesh:Device:Profile"] = "rtx-4090-desktop";
        IHost[] silos = [];
        IHost? client = null;
        try
        {
            silos = await ClusteringHarness.StartSilosAsync(WithScriptedEngine, first, second);
            client = await StartMeshClientAsync(first, _certificates.Issue("client"));
            await ClusteringHarness.WaitForActiveSilosAsync(client, 2);

            var mesh = client.Services.GetRequiredService<IMoeMeshClient>();
            using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
            var result = await mesh.AskAsync(Query.FromPrompt("What is the capital of France?", new QueryOptions { Experts = [GpuExpert.Id] }), timeout.Token);

            Assert.Equal("gpu-general says: the answer is (B) because reasons", result.Answer);
            var run = Assert.Single(result.Runs);
            Assert.Equal(RunOutcome.Completed, run.Outcome);
            Assert.Equal(DeviceKind.DesktopGpu, silos[1].Services.GetRequiredService<SiloIdentity>().Device.Kind);
            Assert.Equal(silos[1].Services.GetRequiredService<SiloIdentity>().Name, run.Silo);
            Assert.Contains(_probe.Requests, r => r.Expert == GpuExpert.Id);
        }
        finally
        {
            await ClusteringHarness.StopAllAsync(client);
            await ClusteringHarness.StopAllAsync(silos);
        }
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_CA_or_none_is_refused()
    {
        var (first, _) = TwoSilos(_certificates.Issue("silo-a"), _certificates.Issue("silo-b"));
        IHost? silo = null;
        try
        {
            silo = await ClusteringHarness.StartSiloAsync(first);

            // A member connects in about a second; these are never let in, however long they try.
            await Assert.ThrowsAnyAsync<Exception>(() => StartMeshClientAsync(first, _certificates.Issue("stranger", foreign: true), RefusalWait));
            await Assert.ThrowsAnyAsync<Exception>(() => StartMeshClientAsync(first, new MeshTlsOptions(), RefusalWait));

            // The silo itself is unharmed: a client with the mesh's certificate still gets in.
            var member = await StartMeshClientAsync(first, _certificates.Issue("member"));
            await ClusteringHarness.StopAllAsync(member);
        }
        finally
        {
            await ClusteringHarness.StopAllAsync(silo);
        }
    }

    [Fact]
    public async Task A_silo_with_a_certificate_from_another_CA_cannot_join()
    {
        var (first, intruder) = TwoSilos(_certificates.Issue("silo-a"), _certificates.Issue("intruder", foreign: true));
        IHost? silo = null;
        IHost? client = null;
        try
        {
            silo = await ClusteringHarness.StartSiloAsync(first);
            var intruderHost = ClusteringHarness.BuildSilo(intruder);
            using (var wait = new CancellationTokenSource(RefusalWait))
            {
                await Assert.ThrowsAnyAsync<Exception>(() => intruderHost.StartAsync(wait.Token));
            }

            intruderHost.Dispose();

            client = await StartMeshClientAsync(first, _certificates.Issue("client"));
            var snapshot = await ClusteringHarness.WaitForActiveSilosAsync(client, 1);
            Assert.Single(snapshot.Silos, s => s.State == SiloState.Active);
        }
        finally
        {
            await ClusteringHarness.StopAllAsync(client);
            await ClusteringHarness.StopAllAsync(silo);
        }
    }

    public void Dispose()
    {
        _certificates.Dispose();
        _manifests.Dispose();
    }

    /// <summary>Settings of two localhost-clustered silos, the first the primary, each with its TLS files.</summary>
    private static (Dictionary<string, string?> First, Dictionary<string, string?> Second) TwoSilos(MeshTlsOptions first, MeshTlsOptions second)
    {
        var clusterId = "tls-" + Guid.NewGuid().ToString("N")[..8];
        var primary = FreePort.Next();
        return (Silo(clusterId, primary, primary, first), Silo(clusterId, FreePort.Next(), primary, second));
    }

    private static Dictionary<string, string?> Silo(string clusterId, int siloPort, int primaryPort, MeshTlsOptions tls)
        => ClusteringHarness.TlsSiloSettings(clusterId, siloPort, primaryPort, tls);

    /// <summary>Starts the SDK's client against the first silo's gateway; throws when the connection is refused.</summary>
    private static async Task<IHost> StartMeshClientAsync(Dictionary<string, string?> silo, MeshTlsOptions tls, TimeSpan? patience = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMoeMeshClient(o =>
        {
            o.Gateways = [ClusteringHarness.GatewayOf(silo)];
            o.ClusterId = silo["MoeMesh:Clustering:ClusterId"]!;
            o.ServiceId = ClusteringHarness.ServiceId;
            o.Tls = tls;
        });
        var host = builder.Build();
        try
        {
            using var timeout = new CancellationTokenSource(patience ?? ClusteringHarness.Patience);
            await host.StartAsync(timeout.Token);

            // A refused handshake may surface on the first call rather than at start.
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(timeout.Token);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
