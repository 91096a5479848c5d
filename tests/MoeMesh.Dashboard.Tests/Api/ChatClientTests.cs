using System.ClientModel;
using Microsoft.Extensions.AI;
using MoeMesh.Dashboard.Tests.TestDoubles;
using OpenAI;

namespace MoeMesh.Dashboard.Tests.Api;

/// <summary>Any Microsoft.Extensions.AI consumer, through the OpenAI client, gets answers from the mesh over HTTP.</summary>
[Collection(DashboardMeshCollection.Name)]
public sealed class ChatClientTests(DashboardMeshFixture mesh)
{
    [Fact]
    public async Task The_openai_chat_client_streams_an_answer_from_the_mesh()
    {
        using var chat = ChatClientFor("moemesh", DashboardMeshFixture.ApiKey);
        var pieces = new List<string>();
        ChatFinishReason? finish = null;

        await foreach (var update in chat.GetStreamingResponseAsync("Please explain the history of Rome"))
        {
            if (!string.IsNullOrEmpty(update.Text))
            {
                pieces.Add(update.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.True(pieces.Count > 3, "the answer arrives in several pieces");
        Assert.Equal("general-small says: the answer is (B) because reasons", string.Concat(pieces));
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task The_openai_chat_client_gets_a_whole_answer_with_usage_from_one_expert()
    {
        using var chat = ChatClientFor("math-small", DashboardMeshFixture.ApiKey);

        var response = await chat.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Answer briefly."), new ChatMessage(ChatRole.User, "What is 2 + 2?")],
            new ChatOptions { MaxOutputTokens = 3 });

        Assert.Equal("math-small says: the", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(3, response.Usage?.OutputTokenCount);
        Assert.Equal("math-small", response.ModelId);
    }

    [Fact]
    public async Task The_openai_chat_client_surfaces_a_wrong_key_as_an_error()
    {
        using var chat = ChatClientFor("moemesh", "not-the-right-key-at-all");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync("hi"));

        Assert.Equal(401, error.Status);
    }

    private IChatClient ChatClientFor(string model, string key)
        => new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(mesh.BaseAddress, "v1") }).AsIChatClient();
}
