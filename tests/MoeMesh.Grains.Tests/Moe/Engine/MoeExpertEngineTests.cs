using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Moe.Engine;

namespace MoeMesh.Grains.Tests.Moe.Engine;

/// <summary>A manifest with engine "moe" answers like any expert, through its expert grain.</summary>
public sealed class MoeExpertEngineTests : IAsyncLifetime
{
    private MoeMeshCluster _mesh = null!;

    public async Task InitializeAsync() => _mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task The_expert_grain_answers_with_the_models_greedy_tokens()
    {
        var expected = _mesh.Loader.GenerateLocally(_mesh.ModelPath, [5, 12, 40], 8);
        var expert = _mesh.Cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica(MoeMeshCluster.ModelId, 0).GrainKey);

        var chunks = new List<ExpertChunk>();
        await foreach (var chunk in expert.GenerateAsync(new GenerationRequest { RawPrompt = "5 12 40", MaxTokens = 8 }))
        {
            chunks.Add(chunk);
        }

        Assert.Equal(string.Concat(expected.Select(MoeTokenText.Decode)), string.Concat(chunks.Select(c => c.Text)));
        var report = chunks.Select(c => c.Report).Single(r => r is not null)!;
        Assert.Equal(8, report.Metrics.GeneratedTokens);
        Assert.Equal(3, report.Metrics.PromptTokens);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_refused()
    {
        var expert = _mesh.Cluster.Client.GetGrain<IExpertGrain>(new ExpertReplica(MoeMeshCluster.ModelId, 0).GrainKey);
        var prompt = string.Join(' ', Enumerable.Repeat("1", 600));

        await Assert.ThrowsAsync<InvalidRequestException>(async () =>
        {
            await foreach (var _ in expert.GenerateAsync(new GenerationRequest { RawPrompt = prompt, MaxTokens = 4 }))
            {
            }
        });
    }

    [Theory]
    [InlineData("3 4 5", 48, new[] { 3, 4, 5 })]
    [InlineData("3 4 99", 48, new[] { 51 % 48, 32, 52 % 48, 32, 57 % 48, 57 % 48 })]
    [InlineData("hi", 1000, new[] { 104, 105 })]
    public void Text_maps_to_token_ids_or_bytes(string text, int vocabulary, int[] expected)
        => Assert.Equal(expected, MoeTokenText.Encode(text, vocabulary));
}
