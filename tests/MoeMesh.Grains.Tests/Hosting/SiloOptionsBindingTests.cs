using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MoeMesh.Devices;
using MoeMesh.Grains.Tests.Hosting.Clustering;
using MoeMesh.Grains.Tests.TestDoubles;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace MoeMesh.Grains.Tests.Hosting;

/// <summary>
/// <c>AddMoeMeshSilo</c> reads nothing but the clustering provider and TLS while the host is built:
/// the <c>MoeMesh</c> section is bound and checked when the host starts, and Orleans' options are
/// filled from it when they are resolved.
/// </summary>
public sealed class SiloOptionsBindingTests : IDisposable
{
    private readonly ManifestFiles _files = new();

    [Fact]
    public async Task A_bad_device_profile_stops_the_host_at_start_not_while_it_is_built()
    {
        var settings = LocalhostSettings();
        settings["MoeMesh:Device:Profile"] = "cray-1";

        using var host = ClusteringHarness.BuildSilo(settings);
        using var timeout = new CancellationTokenSource(ClusteringHarness.Patience);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(timeout.Token));

        Assert.Contains("Unknown device profile 'cray-1'", Flatten(error));
    }

    [Fact]
    public void Every_bad_endpoint_and_clustering_setting_is_listed_in_one_message()
    {
        var settings = LocalhostSettings();
        settings["MoeMesh:Endpoints:SiloPort"] = "70000";
        settings["MoeMesh:Endpoints:GatewayPort"] = "70000";
        settings["MoeMesh:Clustering:ClusterId"] = " ";

        var error = ClusteringHarness.ValidationError(settings);

        Assert.Contains("MoeMesh silo configuration is invalid", error.Message);
        Assert.Contains("SiloPort must be between 1 and 65535", error.Message);
        Assert.Contains("must differ", error.Message);
        Assert.Contains("ClusterId must not be empty", error.Message);
    }

    [Fact]
    public void Silo_metadata_is_published_from_the_configuration_resolved_at_start()
    {
        _files.Write(TwoSiloMeshFixture.Big);
        var settings = LocalhostSettings();
        settings["MoeMesh:Device:Profile"] = "rtx-4090-desktop";
        settings["MoeMesh:Experts:Manifests:0"] = _files.Folder;
        settings["MoeMesh:Experts:ModelMemoryBudgetBytes"] = (20L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture);

        using var host = ClusteringHarness.BuildSilo(settings);
        var metadata = host.Services.GetRequiredService<IOptions<SiloMetadata>>().Value.Metadata;

        Assert.Equal(["big-45b"], DeviceProfileMetadata.HostedExperts(metadata));
        Assert.Equal("RTX 4090 desktop", DeviceProfileMetadata.FromMetadata(metadata)!.Name);
        Assert.Equal("127.0.0.1:" + settings["MoeMesh:Endpoints:GatewayPort"], metadata[SiloMetadataKeys.Gateway]);
    }

    [Fact]
    public void Cluster_and_endpoint_options_come_from_the_MoeMesh_section_when_resolved()
    {
        var settings = ClusteringHarness.SiloSettings("Redis", "127.0.0.1:6379,abortConnect=false", "bound-late");
        settings["MoeMesh:Endpoints:AdvertisedAddress"] = "localhost";
        settings["MoeMesh:Membership:NumMissedProbesLimit"] = "4";

        using var host = ClusteringHarness.BuildSilo(settings);
        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;

        // "localhost" is resolved through DNS only now, to the loopback, where the silo listens alone.
        Assert.Equal(IPAddress.Loopback, endpoints.AdvertisedIPAddress);
        Assert.Null(endpoints.SiloListeningEndpoint);
        Assert.Equal(int.Parse(settings["MoeMesh:Endpoints:SiloPort"]!, CultureInfo.InvariantCulture), endpoints.SiloPort);
        Assert.Equal("bound-late", cluster.ClusterId);
        Assert.Equal(ClusteringHarness.ServiceId, cluster.ServiceId);
        Assert.Equal(4, membership.NumMissedProbesLimit);
    }

    public void Dispose() => _files.Dispose();

    private static Dictionary<string, string?> LocalhostSettings()
    {
        var siloPort = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string?>
        {
            ["MoeMesh:Device:Profile"] = "cpu-box",
            ["MoeMesh:Clustering:Provider"] = "Localhost",
            ["MoeMesh:Clustering:ClusterId"] = "options-binding",
            ["MoeMesh:Endpoints:SiloPort"] = siloPort,
            ["MoeMesh:Endpoints:PrimarySiloPort"] = siloPort,
            ["MoeMesh:Endpoints:GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        };
    }

    private static string Flatten(Exception error) => error switch
    {
        AggregateException aggregate => string.Join(" ", aggregate.InnerExceptions.Select(Flatten)),
        _ => error.Message + (error.InnerException is { } inner ? " " + Flatten(inner) : ""),
    };
}
