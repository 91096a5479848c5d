using Microsoft.AspNetCore.Builder;
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
/// cluster client, opened with <see cref="DashboardMesh.ApiKey"/>.
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
    private DashboardMesh _mesh = null!;

    public InProcessTestCluster Cluster => _mesh.Cluster;

    public WebApplication App => _mesh.App;

    public Uri BaseAddress => _mesh.BaseAddress;

    public async Task InitializeAsync()
    {
        _files.Write(new ExpertManifest
        {
            Id = ModelId, DisplayName = "Tiny MoE", Engine = ExpertEngines.Moe, ModelPath = "tiny-moe.gguf", ParameterCount = 100_000, ContextSize = 256,
            EngineOptions = new Dictionary<string, string> { ["shards_per_layer"] = "2", ["replicas"] = "1" },
        });
        MoeSynthesizer.Write(Path.Combine(_files.Folder, "tiny-moe.gguf"), Model);

        _mesh = await DashboardMesh.StartAsync(_files.Folder, configureSilo: silo => silo.Energy = new EnergyOptions { Meter = EnergyMeterKind.Model });

        // Both silos active with the model's manifest, so shards spread over them.
        await DashboardMesh.WaitUntilAsync(
            async () =>
            {
                var catalog = await Cluster.Client.GetGrain<ICatalogGrain>(0).GetSnapshotAsync();
                return catalog.Silos.Count(s => s.State == SiloState.Active && s.HostableExperts.Contains(ModelId)) >= 2;
            },
            TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs one exact generation of <paramref name="maxTokens"/> tokens as sequence <paramref name="sequence"/>.</summary>
    public Task<MoeGenerationResult> GenerateAsync(string sequence, int[] prompt, int maxTokens)
        => Cluster.Client.GetGrain<IMoeBackboneGrain>($"{ModelId}/{sequence}")
            .GenerateAsync(new MoeGenerationRequest { PromptTokens = prompt, MaxTokens = maxTokens });

    public HttpClient CreateClient(bool authorized = true) => _mesh.CreateClient(authorized);

    public async Task DisposeAsync()
    {
        if (_mesh is not null)
        {
            await _mesh.DisposeAsync();
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
