using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoeMesh.Client.Tests;

public sealed class ChatClientCompositionTests
{
    [Fact]
    public async Task Microsoft_Extensions_AI_middleware_composes_around_the_mesh_chat_client()
    {
        var mesh = new FakeMeshClient();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<IDistributedCache, DictionaryCache>();
        services.AddMoeMeshClient(o => o.Gateways = ["127.0.0.1:30005"], chat => chat.UseDistributedCache());
        services.AddSingleton<IMoeMeshClient>(mesh);
        using var provider = services.BuildServiceProvider();
        var chat = provider.GetRequiredService<IChatClient>();

        var first = await chat.GetResponseAsync("What is six times seven?");
        var second = await chat.GetResponseAsync("What is six times seven?");

        // The cache answered the second call: the mesh was asked once, through the adapter the pipeline wraps.
        Assert.IsNotType<MoeMeshChatClient>(chat);
        Assert.NotNull(chat.GetService<MoeMeshChatClient>());
        Assert.Single(mesh.Queries);
        Assert.Equal("forty-two", first.Text);
        Assert.Equal(first.Text, second.Text);
    }

    [Fact]
    public void Usage_and_finish_reason_of_a_query_without_runs_are_zero_and_stop()
    {
        var result = new Queries.QueryResult { QueryId = "q", Plan = new Queries.QueryPlan { QueryId = "q" } };

        var usage = MoeMeshChatClient.UsageOf(result);

        Assert.Equal(0, usage.InputTokenCount);
        Assert.Equal(0, usage.OutputTokenCount);
        Assert.Equal(0, usage.TotalTokenCount);
        Assert.Equal(ChatFinishReason.Stop, MoeMeshChatClient.FinishOf(result));
    }

    /// <summary>An in-memory distributed cache, enough for the caching middleware.</summary>
    private sealed class DictionaryCache : IDistributedCache
    {
        private readonly ConcurrentDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);

        public byte[]? Get(string key) => _entries.TryGetValue(key, out var value) ? value : null;

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _entries[key] = value;

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Set(key, value, options);
            return Task.CompletedTask;
        }

        public void Refresh(string key)
        {
        }

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key) => _entries.TryRemove(key, out _);

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Remove(key);
            return Task.CompletedTask;
        }
    }
}
