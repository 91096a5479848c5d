using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using MoeMesh.Catalog;
using MoeMesh.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.TokenPath;
using Orleans.TestingHost;

namespace MoeMesh.Dashboard.Tests.TestDoubles;

/// <summary>
/// Two in-process silos holding a synthesized tiny Mixture-of-Experts GGUF (engine "moe", its shards
/// spread over both silos, run by the silos' own ONNX Runtime loader) and the dashboard over the
/// cluster client, opened with <see cref="DashboardMeshFixture.ApiKey"/>.
/// </summary>
public sealed class MoeDashboardFixture : IAsyncLifetime
{
    public const string ModelId = "tiny-moe";

    public static MoeSynthesisOptions Model { get; } = new()
    {
        Architecture = "qwen2moe", Layers = 2, Hidden = 32, Heads = 4, KeyValueHeads = 2, Experts = 8, TopK = 2,
        ExpertFeedForward = 16, VocabularySize = 128, Seed = 5,
    };

    private readonly ManifestFiles _files = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public WebApplication App { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _files.Write(new ExpertManifest
        {
            Id = ModelId, DisplayName = "Tiny MoE", Engine = ExpertEngines.Moe, ModelPath = "tiny-moe.gguf", ParameterCount = 100_000, ContextSize = 256,
            EngineOptions = new Dictionary<string, string> { ["shards_per_layer"] = "2", ["replicas"] = "1" },
        });
        MoeSynthesizer.Write(Path.Combine(_files.Folder, "tiny-moe.gguf"), Model);

        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((silo, host) =>
        {
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = silo.SiloName is "Primary" or "Silo_0" ? "jetson-agx-orin-64gb" : "rtx-4090-desktop" },
                Experts = new ExpertHostingOptions { Manifests = [_files.Folder] },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        App = await DashboardMeshFixture.StartDashboardAsync(Cluster.Client, o => o.ApiKeys = [DashboardMeshFixture.ApiKey]);
        BaseAddress = new Uri(MoeMeshDashboardExtensions.DashboardUrls(App.Services)[0]);
        await WaitForSilosAsync(2);
    }

    /// <summary>Runs one exact generation of <paramref name="maxTokens"/> tokens as sequence <paramref name="sequence"/>.</summary>
    public Task<MoeGenerationResult> GenerateAsync(string sequence, int[] prompt, int maxTokens)
        => Cluster.Client.GetGrain<IMoeBackboneGrain>($"{ModelId}/{sequence}")
            .GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = maxTokens });

    public HttpClient CreateClient(bool authorized = true)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (authorized)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", DashboardMeshFixture.ApiKey);
        }

        return client;
    }

    /// <summary>Waits until both silos are active in the catalog with the model's manifest, so shards spread over them.</summary>
    private async Task WaitForSilosAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var catalog = await Cluster.Client.GetGrain<ICatalogGrain>(0).GetSnapshotAsync().WaitAsync(timeout.Token);
            if (catalog.Silos.Count(s => s.State == SiloState.Active && s.HostableExperts.Contains(ModelId)) >= count)
            {
                return;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        _files.Dispose();
    }

    /// <summary>Prompt tokens for a run; <paramref name="seed"/> varies them.</summary>
    public static int[] Prompt(int seed, int length)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => random.Next(Model.VocabularySize))];
    }
}
