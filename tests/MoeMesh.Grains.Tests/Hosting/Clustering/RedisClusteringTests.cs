using Microsoft.Extensions.Hosting;
using MoeMesh.Catalog;
using MoeMesh.Grains.Hosting;
using StackExchange.Redis;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

/// <summary>Silos configured with <c>MoeMesh:Clustering:Provider=Redis</c>, against a real server.</summary>
public sealed class RedisClusteringTests(RedisServer server) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Two_silos_form_one_cluster_through_Redis()
    {
        var clusterId = "redis-" + Guid.NewGuid().ToString("N")[..8];
        var first = ClusteringHarness.SiloSettings("Redis", server.ConnectionString, clusterId);
        var second = ClusteringHarness.SiloSettings("Redis", server.ConnectionString, clusterId);
        IHost[] silos = [];
        IHost? client = null;
        try
        {
            silos = await ClusteringHarness.StartSilosAsync(first, second);
            client = await ClusteringHarness.StartClientAsync(clusterId, c => c.UseRedisClustering(server.ConnectionString));

            var snapshot = await ClusteringHarness.WaitForActiveSilosAsync(client, 2);

            Assert.Equal(2, snapshot.Silos.Count(s => s.State == SiloState.Active));
            Assert.Equal(
                new[] { ClusteringHarness.GatewayOf(first), ClusteringHarness.GatewayOf(second) }.Order(StringComparer.Ordinal),
                snapshot.Silos.Select(s => s.Endpoint ?? "").Order(StringComparer.Ordinal));

            // The membership lives where the provider keeps it: one hash per service and cluster,
            // holding the table version and one field per silo.
            await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
            var fields = await redis.GetDatabase().HashKeysAsync($"{ClusteringHarness.ServiceId}/members/{clusterId}");
            Assert.Equal(3, fields.Length);
        }
        finally
        {
            await ClusteringHarness.StopAllAsync(client);
            await ClusteringHarness.StopAllAsync(silos);
        }
    }

    [Fact]
    public async Task Unreachable_server_fails_start_up_promptly_naming_the_setting()
    {
        // abortConnect=false would otherwise have the Redis client retry in the background forever.
        var settings = ClusteringHarness.SiloSettings("Redis", $"127.0.0.1:{FreePort.Next()},password=secret-word,abortConnect=false", "redis-unreachable");

        await ClusteringHarness.AssertStartUpFailsPromptlyNamingTheSettingAsync(settings);
    }

    [Theory]
    [InlineData("127.0.0.1:6379,colour=blue", "colour")]
    [InlineData(",abortConnect=false", "names no Redis server")]
    public void Malformed_connection_string_is_rejected_when_the_options_are_validated(string connectionString, string expected)
    {
        var settings = ClusteringHarness.SiloSettings("Redis", connectionString, "redis-malformed");

        var error = ClusteringHarness.ValidationError(settings);

        Assert.Contains("MoeMesh:Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
