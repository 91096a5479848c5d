using Microsoft.Extensions.AI;
using MoeMesh.Client;
using MoeMesh.Grains.Tests.TestDoubles;

namespace MoeMesh.Grains.Tests.Client;

/// <summary>The SDK's IChatClient adapter against a real two-silo cluster.</summary>
[Collection(TwoSiloMeshCollection.Name)]
public sealed class ChatClientOverMeshTests(TwoSiloMeshFixture mesh)
{
    [Fact]
    public async Task Any_chat_client_consumer_gets_an_answer_from_the_mesh()
    {
        IChatClient chat = new MoeMeshChatClient(mesh.Client);

        var response = await chat.GetResponseAsync("Some arithmetic please: 2 + 2", new ChatOptions { ModelId = "math-small", MaxOutputTokens = 3 });

        Assert.Equal("math-small says: the", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(3, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Streaming_chat_yields_tokens_as_they_are_produced()
    {
        IChatClient chat = new MoeMeshChatClient(mesh.Client, TwoSiloMeshFixture.SmallExperts());
        var texts = new List<string>();

        await foreach (var update in chat.GetStreamingResponseAsync("history of Rome", new ChatOptions { ModelId = "moemesh" }))
        {
            if (!string.IsNullOrEmpty(update.Text))
            {
                texts.Add(update.Text);
            }
        }

        Assert.True(texts.Count > 3);
        Assert.StartsWith("general-small says:", string.Concat(texts), StringComparison.Ordinal);
    }
}
