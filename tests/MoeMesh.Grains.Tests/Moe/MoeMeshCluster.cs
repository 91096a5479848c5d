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

    private readonly ReferenceMoeLoader? _loader;

    private MoeMeshCluster(ReferenceMoeLoader? loader) => _loader = loader;

    /// <summary>The reference loader every silo shares; absent when the silos run the real ONNX loader.</summary>
    public ReferenceMoeLoader Loader => _loader ?? throw new InvalidOperationException("This cluster runs the silos' own MoE loader.");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public string ModelPath => Path.Combine(_files.Folder, "tiny-moe.gguf");

    public static Task<MoeMeshCluster> StartAsync(int silos, int replicas) => StartAsync(silos, replicas, new ReferenceMoeLoader(), writeModel: null);

    /// <summary>
    /// Starts the cluster; with no <paramref name="loader"/> the silos keep the loader MoeMesh registers
    /// (ONNX Runtime), and <paramref name="writeModel"/> writes the GGUF they load to the given path.
    /// </summary>
    public static async Task<MoeMeshCluster> StartAsync(
        int silos, int replicas, ReferenceMoeLoader? loader, Action<string>? writeModel, Func<ExpertManifest, ExpertManifest>? adjustManifest = null)
    {
        var mesh = new MoeMeshCluster(loader);
        var manifest = new ExpertManifest
        {
            Id = ModelId, Engine = ExpertEngines.Moe, ModelPath = "tiny-moe.gguf", ParameterCount = 10_000, ContextSize = 512,
            EngineOptions = new Dictionary<string, string> { [MoeShardLayout.ShardsPerLayerOption] = silos.ToString(System.Globalization.CultureInfo.InvariantCulture), [MoeShardLayout.ReplicasOption] = replicas.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        mesh._files.Write(adjustManifest is null ? manifest : adjustManifest(manifest));
        writeModel?.Invoke(mesh.ModelPath);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = "rtx-4090-desktop" },
                Experts = new ExpertHostingOptions { Manifests = [mesh._files.Folder], Calibration = new CalibrationOptions { ProbeAtLoad = false } },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            if (loader is not null)
            {
                host.Services.AddSingleton<IMoeModelLoader>(loader);
            }

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
    public Task<IReadOnlyList<ExpertShardStatus>> ShardsAsync(int replicas)
        => ShardsAsync(replicas, ReferenceMoeWeights.TinyShape.LayerCount, ReferenceMoeWeights.TinyShape.ExpertCount);

    /// <summary>Where every shard replica of a model of the given shape lives (activating them).</summary>
    public async Task<IReadOnlyList<ExpertShardStatus>> ShardsAsync(int replicas, int layers, int experts)
    {
        var layout = new MoeShardLayout(ModelId, experts, Cluster.Silos.Count, replicas);
        var keys = layout.AllKeys(layers);
        return await Task.WhenAll(keys.Select(k => PrimaryGrains.GetGrain<IExpertShardGrain>(k.GrainKey).WarmUpAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _files.Dispose();
    }
}
