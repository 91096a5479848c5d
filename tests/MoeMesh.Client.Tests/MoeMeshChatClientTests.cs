using Microsoft.Extensions.AI;
using MoeMesh.Queries;

namespace MoeMesh.Client.Tests;

public sealed class MoeMeshChatClientTests
{
    private readonly FakeMeshClient _mesh = new();

    [Fact]
    public async Task Chat_options_become_query_options()
    {
        using var chat = new MoeMeshChatClient(_mesh);
        var options = new ChatOptions
        {
            ModelId = "moemesh-symbolic",
            MaxOutputTokens = 99,
            Temperature = 0.3f,
            TopP = 0.8f,
            TopK = 7,
            Seed = 5,
            StopSequences = ["END"],
            AdditionalProperties = new AdditionalPropertiesDictionary { ["k"] = 3, ["budget_ms"] = 2500.0, ["budget_j"] = "12.5" },
        };

        await chat.GetResponseAsync([new ChatMessage(ChatRole.System, "be brief"), new ChatMessage(ChatRole.User, "hi")], options);

        var query = Assert.Single(_mesh.Queries);
        Assert.Equal(RoutingStrategy.Symbolic, query.Options.Strategy);
        Assert.Equal(3, query.Options.K);
        Assert.Equal(2500, query.Options.LatencyBudgetMs);
        Assert.Equal(12.5, query.Options.EnergyBudgetJoules);
        Assert.Equal(99, query.Options.MaxTokens);
        Assert.Equal(0.3f, query.Options.Sampling.Temperature);
        Assert.Equal(7, query.Options.Sampling.TopK);
        Assert.Equal(5u, query.Options.Sampling.Seed);
        Assert.Equal(["END"], query.Options.Stop);
        Assert.Equal(["system", "user"], query.Messages.Select(m => m.Role));
    }

    [Fact]
    public async Task Response_carries_answer_usage_and_the_plan()
    {
        using var chat = new MoeMeshChatClient(_mesh);

        var response = await chat.GetResponseAsync("hi");

        Assert.Equal("forty-two", response.Text);
        Assert.Equal(5, response.Usage!.InputTokenCount);
        Assert.Equal(3, response.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.IsType<QueryResult>(response.RawRepresentation);
        Assert.Equal("moemesh", response.ModelId);
    }

    [Fact]
    public async Task Streaming_yields_only_answer_text_then_usage()
    {
        using var chat = new MoeMeshChatClient(_mesh);
        var updates = new List<ChatResponseUpdate>();

        await foreach (var update in chat.GetStreamingResponseAsync("hi", new ChatOptions { ModelId = "demo-math" }))
        {
            updates.Add(update);
        }

        Assert.Equal("forty-two", string.Concat(updates.Select(u => u.Text)));
        Assert.Contains(updates[^1].Contents, c => c is UsageContent);
        Assert.All(updates, u => Assert.Equal("demo-math", u.ModelId));
        Assert.Equal(["demo-math"], _mesh.Queries[0].Options.Experts);
    }

    [Fact]
    public void Metadata_names_the_provider()
    {
        using var chat = new MoeMeshChatClient(_mesh, new QueryOptions { Strategy = RoutingStrategy.Moe2 });

        var metadata = chat.GetService<ChatClientMetadata>();

        Assert.Equal("moemesh", metadata!.ProviderName);
        Assert.Equal("moemesh-moe2", metadata.DefaultModelId);
        Assert.Same(_mesh, chat.GetService<IMoeMeshClient>());
    }

    [Fact]
    public async Task Answer_text_helper_filters_drafts()
    {
        var pieces = new List<string>();
        await foreach (var piece in _mesh.StreamAsync("q").AnswerText())
        {
            pieces.Add(piece);
        }

        Assert.Equal(["forty", "-", "two"], pieces);
    }
}
