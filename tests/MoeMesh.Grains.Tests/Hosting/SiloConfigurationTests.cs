using MoeMesh.Devices;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Placement;
using MoeMesh.Grains.Tests.TestDoubles;
using Microsoft.Extensions.Configuration;

namespace MoeMesh.Grains.Tests.Hosting;

public sealed class SiloConfigurationTests
{
    [Fact]
    public void Ready_made_profile_resolves_with_overrides()
    {
        var profile = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "jetson-agx-orin-64gb", MaxPowerWatts = 30, Site = "lab" });

        Assert.Equal(DeviceKind.Jetson, profile.Kind);
        Assert.Equal(204.8, profile.MemoryBandwidthGBps);
        Assert.Equal(30, profile.MaxPowerWatts);
        Assert.Equal("lab", profile.Site);
    }

    [Fact]
    public void Every_shipped_profile_is_valid()
    {
        var names = DeviceProfileResolver.AvailableProfiles();

        Assert.Contains("rtx-4090-desktop", names);
        Assert.Equal(6, names.Count);
        Assert.All(names, n => DeviceProfileResolver.Resolve(new DeviceOptions { Profile = n }));
    }

    [Fact]
    public void Unknown_profile_lists_the_ready_made_ones()
    {
        var error = Assert.Throws<MoeMeshConfigurationException>(() => DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "cray-1" }));

        Assert.Contains("Unknown device profile 'cray-1'", error.Message);
        Assert.Contains("jetson-orin-nano-8gb", error.Message);
    }

    [Fact]
    public void Impossible_device_figures_are_rejected()
    {
        var error = Assert.Throws<MoeMeshConfigurationException>(() => DeviceProfileResolver.Resolve(new DeviceOptions
        {
            Profile = "cpu-box",
            MemoryBytes = -1,
            MemoryBandwidthGBps = double.NaN,
            IdlePowerWatts = 100,
            MaxPowerWatts = 50,
        }));

        Assert.Contains("memory must be positive", error.Message);
        Assert.Contains("memory bandwidth (GB/s) must be a positive number", error.Message);
        Assert.Contains("max power (50 W) must be at least the idle power (100 W)", error.Message);
    }

    [Fact]
    public void Configuration_binds_from_the_MoeMesh_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeMesh:Device:Profile"] = "rtx-3090-desktop",
            ["MoeMesh:Endpoints:SiloPort"] = "12000",
            ["MoeMesh:Endpoints:GatewayPort"] = "32000",
            ["MoeMesh:Clustering:Provider"] = "Redis",
            ["MoeMesh:Clustering:ConnectionString"] = "localhost:6379",
        }).Build();

        var resolved = MoeMeshSiloConfiguration.Load(configuration);

        Assert.Equal("RTX 3090 desktop", resolved.Device.Name);
        Assert.Equal(12000, resolved.Options.Endpoints.SiloPort);
        Assert.Equal(ClusteringProvider.Redis, resolved.Options.Clustering.Provider);
        Assert.Equal(resolved.Device.MemoryBytes, resolved.ModelMemoryBudgetBytes);
    }

    [Fact]
    public void Bad_ports_clustering_and_budget_are_rejected_clearly()
    {
        var ports = Assert.Throws<MoeMeshConfigurationException>(() => MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
        {
            Endpoints = new EndpointsOptions { SiloPort = 70000, GatewayPort = 70000 },
            Clustering = new ClusteringOptions { Provider = ClusteringProvider.Postgres },
        }));
        Assert.Contains("SiloPort must be between 1 and 65535", ports.Message);
        Assert.Contains("must differ", ports.Message);
        Assert.Contains("ConnectionString is required for Postgres", ports.Message);

        var budget = Assert.Throws<MoeMeshConfigurationException>(() => MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
        {
            Device = new DeviceOptions { Profile = "jetson-orin-nano-8gb" },
            Experts = new ExpertHostingOptions { ModelMemoryBudgetBytes = 100L * 1024 * 1024 * 1024 },
        }));
        Assert.Contains("ModelMemoryBudgetBytes must be between 1 and the device memory", budget.Message);

        var unreadable = Assert.Throws<MoeMeshConfigurationException>(() => MoeMeshSiloConfiguration.Load(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MoeMesh:Clustering:Provider"] = "carrier-pigeon" }).Build()));
        Assert.Contains("carrier-pigeon", unreadable.Message);
    }

    [Fact]
    public void Silo_metadata_carries_the_device_and_each_expert_requirement()
    {
        using var files = new ManifestFiles();
        files.Write(TwoSiloMeshFixture.Big);
        var resolved = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
        {
            Device = new DeviceOptions { Profile = "rtx-4090-desktop" },
            Experts = new ExpertHostingOptions { Manifests = [files.Folder], ModelMemoryBudgetBytes = 20L * 1024 * 1024 * 1024 },
        });

        var metadata = resolved.ToSiloMetadata();

        Assert.Equal(resolved.Device, DeviceProfileMetadata.FromMetadata(metadata));
        Assert.Equal(["big-45b"], DeviceProfileMetadata.HostedExperts(metadata));
        Assert.Equal(20L * 1024 * 1024 * 1024, DeviceProfileMetadata.ModelMemoryBudget(metadata, resolved.Device));
        var requirement = ExpertRequirement.Parse(metadata[ExpertRequirement.MetadataKey("big-45b")]);
        Assert.Equal(27L * 1024 * 1024 * 1024, requirement!.WeightBytes);
    }

    [Theory]
    [InlineData("bytes=10;minfree=2;kinds=Jetson,DesktopGpu", 10, 2, 2)]
    [InlineData("bytes=5;minfree=0;kinds=", 5, 0, 0)]
    public void Requirement_text_round_trips(string text, long bytes, long minFree, int kinds)
    {
        var parsed = ExpertRequirement.Parse(text)!;

        Assert.Equal(bytes, parsed.WeightBytes);
        Assert.Equal(minFree, parsed.MinFreeMemoryBytes);
        Assert.Equal(kinds, parsed.DeviceKinds.Count);
        Assert.Equal(parsed, ExpertRequirement.Parse(parsed.Format()), new RequirementComparer());
    }

    [Theory]
    [InlineData("bytes=x")]
    [InlineData("kinds=Toaster")]
    [InlineData("whatever")]
    public void Malformed_requirement_text_is_null(string text) => Assert.Null(ExpertRequirement.Parse(text));

    private sealed class RequirementComparer : IEqualityComparer<ExpertRequirement?>
    {
        public bool Equals(ExpertRequirement? x, ExpertRequirement? y)
            => x!.WeightBytes == y!.WeightBytes && x.MinFreeMemoryBytes == y.MinFreeMemoryBytes && x.DeviceKinds.SequenceEqual(y.DeviceKinds);

        public int GetHashCode(ExpertRequirement? obj) => 0;
    }
}
