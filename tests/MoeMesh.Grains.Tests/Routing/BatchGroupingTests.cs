using Microsoft.Extensions.Hosting;
using MoeMesh.Client;
using MoeMesh.Grains.Hosting;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Queries;
using Orleans.TestingHost;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>Concurrent queries recruited to one llama.cpp expert reach it together and are decoded as one batch.</summary>
public sealed class BatchGroupingTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moemesh-batch-").FullName;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        SynthesizedExpert.Write(_folder, new TinyLlamaOptions { Name = "batch-expert", Layers = 2, EmbeddingLength = 64, Seed = 5 }, contextSize: 512, skills: ["general"]);
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            // Wide enough that the three concurrent queries are planned inside it even on a loaded two-core machine.
            host.Configuration["MoeMesh:Routing:BatchWindow"] = "00:00:02";
            host.Configuration["MoeMesh:Llama:Threads"] = "1";
            var configuration = MoeMeshSiloConfiguration.Resolve(new MoeMeshSiloOptions
            {
                Device = new DeviceOptions { Profile = "cpu-box" },
                Experts = new ExpertHostingOptions { Manifests = [_folder], Calibration = new CalibrationOptions { ProbeAtLoad = false } },
                Clustering = new ClusteringOptions { Provider = ClusteringProvider.External },
                Energy = new EnergyOptions { Meter = EnergyMeterKind.Model },
            });
            host.UseOrleans(orleans => orleans.AddMoeMesh(configuration));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Queries_within_the_window_share_one_batch_on_the_real_engine()
    {
        var client = new MoeMeshClient(_cluster.Client);
        await client.AskAsync("warm up", new QueryOptions { MaxTokens = 2 });

        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(i =>
            client.AskAsync($"question number {i} about anything", new QueryOptions { MaxTokens = 96 })));

        Assert.All(answers, a => Assert.False(string.IsNullOrEmpty(a.Answer)));
        Assert.All(answers, a => Assert.Equal("batch-expert", Assert.Single(a.Runs).ExpertId));
        Assert.All(answers, a => Assert.True(a.Runs[0].Metrics!.BatchSize >= 2, $"batch size {a.Runs[0].Metrics!.BatchSize}"));
        Assert.All(answers, a => Assert.Equal(96, a.Runs[0].Metrics!.GeneratedTokens));
    }
}
