using System.Net;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Hosting.Clustering;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

[CollectionDefinition(Name)]
public sealed class PostgresServerCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>The membership script and the queries it stores, against a real PostgreSQL server.</summary>
[Collection(PostgresServerCollection.Name)]
public sealed class PostgresMembershipSchemaTests(PostgresServer server)
{
    private static readonly string[] QueryKeys =
    [
        "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey",
        "UpdateIAmAlivetimeKey", "InsertMembershipKey", "UpdateMembershipKey",
        "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
    ];

    [Fact]
    public async Task Script_applies_again_over_an_existing_schema_and_keeps_its_rows()
    {
        var database = await server.CreateDatabaseAsync();

        await PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None);
        await ExecuteAsync(database, "INSERT INTO OrleansMembershipVersionTable (DeploymentId, Version) VALUES ('kept', 7)");
        await ExecuteAsync(database, "UPDATE OrleansQuery SET QueryText = 'stale' WHERE QueryKey = 'GatewaysQueryKey'");
        await PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None);

        Assert.Equal(7, await ScalarAsync<int>(database, "SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = 'kept'"));
        Assert.Equal(QueryKeys.Order(StringComparer.Ordinal), await StoredQueryKeysAsync(database));
        Assert.Contains("ProxyPort", await ScalarAsync<string>(database, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'GatewaysQueryKey'"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_applications_on_an_empty_database_all_succeed()
    {
        var database = await server.CreateDatabaseAsync();

        // Silos starting together each apply the script; none may fail on the others' DDL.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None))));

        Assert.Equal(QueryKeys.Order(StringComparer.Ordinal), await StoredQueryKeysAsync(database));
        Assert.Equal(2, await ScalarAsync<long>(database, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'moemesh_membership_%'"));
    }

    [Fact]
    public async Task A_user_without_create_rights_gets_an_error_saying_so()
    {
        var database = await server.CreateDatabaseAsync();
        var role = "limited_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync(database, $"CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        var asLimitedUser = new NpgsqlConnectionStringBuilder(database) { Username = role }.ConnectionString;

        var error = await Assert.ThrowsAsync<MoeMeshConfigurationException>(() => PostgresMembershipSchema.EnsureCreatedAsync(asLimitedUser, CancellationToken.None));

        Assert.Contains("permission denied", error.Message, StringComparison.Ordinal);
        Assert.Contains("MoeMesh:Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains(role, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_query_the_clustering_provider_requires_is_stored()
    {
        // The provider refuses to start unless every query it declares is present: read its list
        // from the assembly itself so an Orleans upgrade that adds one shows up here.
        var storedQueries = typeof(AdoNetClusteringTable).Assembly.GetType("Orleans.Clustering.AdoNet.Storage.DbStoredQueries");
        Assert.NotNull(storedQueries);
        var required = storedQueries
            .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic)
            .Select(p => p.Name)
            .ToList();
        Assert.NotEmpty(required);

        var database = await server.CreateDatabaseAsync();
        await PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None);

        Assert.Empty(required.Except(await StoredQueryKeysAsync(database)));
    }

    [Fact]
    public async Task Membership_queries_follow_the_table_version_protocol()
    {
        var database = await server.CreateDatabaseAsync();
        await PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None);
        var table = Table(database, "cluster-a");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var now = Truncate(DateTime.UtcNow);
        var first = Entry(11111, 1, SiloStatus.Active, proxyPort: 30000, now);
        var second = Entry(11112, 2, SiloStatus.Joining, proxyPort: 0, now);

        Assert.True(await table.InsertRowAsync(first, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(second, empty.Version.Next())); // stale version
        var v1 = (await table.ReadAllAsync()).Version;
        Assert.Equal(1, v1.Version);
        Assert.False(await table.InsertRowAsync(first, v1.Next())); // already listed
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version); // ... and the refused insert left the version alone
        Assert.True(await table.InsertRowAsync(second, v1.Next()));

        var row = Assert.Single((await table.ReadRowAsync(first.SiloAddress)).Members).Item1;
        Assert.Equal(first.SiloAddress, row.SiloAddress);
        Assert.Equal(SiloStatus.Active, row.Status);
        Assert.Equal(30000, row.ProxyPort);
        Assert.Equal(first.SiloName, row.SiloName);
        Assert.Equal(first.HostName, row.HostName);
        Assert.Equal(now, row.StartTime);
        Assert.Empty((await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 1, 1))).Members);

        // Updates: the same version rule, suspicions round-trip, a missing silo changes nothing.
        var (v2, etag2) = await VersionAndETagAsync(table, first);
        first.SuspectTimes = [Tuple.Create(second.SiloAddress, now)];
        first.Status = SiloStatus.ShuttingDown;
        Assert.True(await table.UpdateRowAsync(first, etag2, v2.Next()));
        Assert.False(await table.UpdateRowAsync(first, etag2, v2.Next()));
        var v3 = (await table.ReadAllAsync()).Version;
        Assert.False(await table.UpdateRowAsync(Entry(11113, 3, SiloStatus.Active, 0, now), v3.VersionEtag, v3.Next()));
        Assert.Equal(v3.Version, (await table.ReadAllAsync()).Version.Version);
        row = Assert.Single((await table.ReadRowAsync(first.SiloAddress)).Members).Item1;
        Assert.Equal(SiloStatus.ShuttingDown, row.Status);
        Assert.NotNull(row.SuspectTimes);
        Assert.Equal(second.SiloAddress, Assert.Single(row.SuspectTimes).Item1);

        // Heartbeats touch the row but never the version.
        first.IAmAliveTime = now.AddSeconds(5);
        await table.UpdateIAmAliveAsync(first);
        var afterHeartbeat = await table.ReadRowAsync(first.SiloAddress);
        Assert.Equal(now.AddSeconds(5), Assert.Single(afterHeartbeat.Members).Item1.IAmAliveTime);
        Assert.Equal(v3.Version, afterHeartbeat.Version.Version);

        // Another cluster in the same database sees none of this.
        var other = Table(database, "cluster-b");
        await other.InitializeMembershipTableAsync(tryInitTableVersion: true);
        Assert.Empty((await other.ReadAllAsync()).Members);

        // Cleanup forgets dead silos past the cut-off and keeps everything else.
        second.Status = SiloStatus.Dead;
        second.IAmAliveTime = now.AddHours(-1);
        var (v4, etag4) = await VersionAndETagAsync(table, second);
        Assert.True(await table.UpdateRowAsync(second, etag4, v4.Next()));
        await table.CleanupDefunctSiloEntriesAsync(now.AddMinutes(-1));
        Assert.Equal([first.SiloAddress], (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress));

        await table.DeleteMembershipTableEntriesAsync("cluster-a");
        Assert.Equal(0, await ScalarAsync<long>(database, "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = 'cluster-a'"));
        Assert.Equal(0, await ScalarAsync<long>(database, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = 'cluster-a'"));
        Assert.Equal(1, await ScalarAsync<long>(database, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = 'cluster-b'"));
    }

    [Fact]
    public async Task Gateway_query_lists_only_active_silos_that_accept_clients()
    {
        var database = await server.CreateDatabaseAsync();
        await PostgresMembershipSchema.EnsureCreatedAsync(database, CancellationToken.None);
        var table = Table(database, "gateways");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var now = Truncate(DateTime.UtcNow);
        var gateway = Entry(11111, 1, SiloStatus.Active, proxyPort: 30000, now);
        foreach (var entry in new[] { gateway, Entry(11112, 1, SiloStatus.Active, 0, now), Entry(11113, 1, SiloStatus.Joining, 30003, now) })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var provider = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = PostgresMembershipSchema.Invariant, ConnectionString = database }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = "gateways", ServiceId = "tests" }));
        await provider.InitializeGatewayListProviderAsync();

        var gateways = await provider.GetGatewaysAsync();

        Assert.Equal([SiloAddress.New(IPAddress.Loopback, 30000, 1).ToGatewayUri()], gateways);
    }

    private static AdoNetClusteringTable Table(string connectionString, string clusterId)
        => new(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "tests" }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = PostgresMembershipSchema.Invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);

    /// <summary>The table version and the row's etag from one read, as the membership protocol uses them.</summary>
    private static async Task<(TableVersion Version, string ETag)> VersionAndETagAsync(AdoNetClusteringTable table, MembershipEntry entry)
    {
        var data = await table.ReadRowAsync(entry.SiloAddress);
        return (data.Version, Assert.Single(data.Members).Item2);
    }

    private static MembershipEntry Entry(int port, int generation, SiloStatus status, int proxyPort, DateTime now) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation),
        SiloName = $"silo-{port}",
        HostName = "box-" + port,
        Status = status,
        ProxyPort = proxyPort,
        StartTime = now,
        IAmAliveTime = now,
    };

    // PostgreSQL keeps microseconds; whole milliseconds compare exactly after the round trip.
    private static DateTime Truncate(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    private static async Task<List<string>> StoredQueryKeysAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey COLLATE \"C\"", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
