using Microsoft.Extensions.Hosting;
using MoeMesh.Catalog;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Hosting.Clustering;
using Npgsql;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

/// <summary>Silos configured with <c>MoeMesh:Clustering:Provider=Postgres</c>, against a real server.</summary>
[Collection(PostgresServerCollection.Name)]
public sealed class PostgresClusteringTests(PostgresServer server)
{
    [Fact]
    public async Task Two_silos_form_one_cluster_through_PostgreSQL()
    {
        // A database nobody prepared: the silos create the schema themselves, both at once.
        var database = await server.CreateDatabaseAsync();
        var clusterId = "pg-" + Guid.NewGuid().ToString("N")[..8];
        var first = ClusteringHarness.SiloSettings("Postgres", database, clusterId);
        var second = ClusteringHarness.SiloSettings("Postgres", database, clusterId);
        IHost[] silos = [];
        IHost? client = null;
        try
        {
            silos = await ClusteringHarness.StartSilosAsync(first, second);
            client = await ClusteringHarness.StartClientAsync(clusterId, c => c.UseAdoNetClustering(o =>
            {
                o.Invariant = PostgresMembershipSchema.Invariant;
                o.ConnectionString = database;
            }));

            var snapshot = await ClusteringHarness.WaitForActiveSilosAsync(client, 2);

            Assert.Equal(2, snapshot.Silos.Count(s => s.State == SiloState.Active));
            Assert.Equal(
                new[] { ClusteringHarness.GatewayOf(first), ClusteringHarness.GatewayOf(second) }.Order(StringComparer.Ordinal),
                snapshot.Silos.Select(s => s.Endpoint ?? "").Order(StringComparer.Ordinal));
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Status = 3", connection);
            count.Parameters.AddWithValue("cluster", clusterId);
            Assert.Equal(2L, await count.ExecuteScalarAsync());
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
        var settings = ClusteringHarness.SiloSettings("Postgres", $"Host=127.0.0.1;Port={FreePort.Next()};Username=postgres;Password=secret-word", "pg-unreachable");

        await ClusteringHarness.AssertStartUpFailsPromptlyNamingTheSettingAsync(settings);
    }

    [Fact]
    public async Task Missing_database_fails_start_up_with_the_server_reason()
    {
        var settings = ClusteringHarness.SiloSettings("Postgres", server.ConnectionStringFor("no_such_database"), "pg-missing-db");

        var error = await Assert.ThrowsAsync<MoeMeshConfigurationException>(() => ClusteringHarness.StartSiloAsync(settings));

        Assert.Contains("MoeMesh:Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"no_such_database\" does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_connection_string_is_rejected_when_the_options_are_validated()
    {
        var settings = ClusteringHarness.SiloSettings("Postgres", "Host=127.0.0.1;Colour=blue", "pg-malformed");

        var error = ClusteringHarness.ValidationError(settings);

        Assert.Contains("MoeMesh:Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("colour", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
