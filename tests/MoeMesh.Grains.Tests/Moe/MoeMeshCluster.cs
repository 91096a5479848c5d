using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;

namespace MoeMesh.Grains.Tests.Moe;

/// <summary>An in-process cluster whose silos all hold the manifest of the reference MoE "tiny-moe".</summary>
internal sealed class MoeMeshCluster : IAsyncDisposable
{
    public const string ModelId = "tiny-moe";

    private readonly ManifestFiles _files = new();

    private MoeMeshCluster(ReferenceMoeLoader loader) => Loader = loader;

    public ReferenceMoeLoader Loader { get; }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string ModelPath => Path.Combine(_files.Folder, "tiny-moe.gguf");

    public static async Task<MoeMeshCluster> StartAsync(int silos, int replicas)
    {
        var mesh = new MoeMeshCluster(new ReferenceMoeLoader());
        mesh._files.Write(new ExpertManifest
        {
            Id = ModelId, Engine = ExpertEngines.Moe, ModelPath = "tiny-moe.gguf", ParameterCount = 10_000, ContextSize = 512,
            EngineOptions = new Dictionary<string, string> { [MoeShardLayout.ShardsPerLayerOption] = silos.ToString(System.Globalization.CultureInfo.InvariantCulture), [MoeShardLayout.ReplicasOption] = replicas.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = "rtx-4090-desktop" },
                Experts = new ExpertHostingOptions { Manifests = [mesh._files.Folder] },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            host.Services.AddSingleton<IMoeModelLoader>(mesh.Loader);
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration));
        });
        mesh.Cluster = builder.Build();
        await mesh.Cluster.DeployAsync();
        await mesh.WaitForSilosAsync(silos);
        return mesh;
    }

    /// <summary>Waits until the primary silo sees <paramref name="count"/> active silos with their device metadata, so placement can spread.</summary>
    public async Task WaitForSilosAsync(int count)
    {
        var services = Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var metadata = services.GetRequiredService<ISiloMetadataCache>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active
                   && DeviceProfileMetadata.FromMetadata(metadata.GetSiloMetadata(m.SiloAddress).Metadata) is not null) < count)
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>A grain factory inside the primary silo: a backbone asked for from here runs here.</summary>
    public IGrainFactory PrimaryGrains
        => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();

    public IMoeBackboneGrain Backbone(string sequence) => PrimaryGrains.GetGrain<IMoeBackboneGrain>($"{ModelId}/{sequence}");

    /// <summary>Where every shard replica of the model lives (activating them).</summary>
    public async Task<IReadOnlyList<ExpertShardStatus>> ShardsAsync(int replicas)
    {
        var layout = new MoeShardLayout(ModelId, ReferenceMoeWeights.TinyShape.ExpertCount, Cluster.Silos.Count, replicas);
        var keys = layout.AllKeys(ReferenceMoeWeights.TinyShape.LayerCount);
        return await Task.WhenAll(keys.Select(k => PrimaryGrains.GetGrain<IExpertShardGrain>(k.GrainKey).WarmUpAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _files.Dispose();
    }
}
