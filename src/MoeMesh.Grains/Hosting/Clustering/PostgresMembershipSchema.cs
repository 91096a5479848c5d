using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Npgsql;

namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>
/// PostgreSQL membership: configures Orleans' ADO.NET clustering and, before the silo joins,
/// creates or refreshes the tables, functions and queries it needs (<c>PostgresMembership.sql</c>,
/// idempotent and safe for silos starting together).
/// </summary>
internal sealed class PostgresMembershipSchema(string connectionString, TimeProvider time) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The ADO.NET invariant Orleans knows PostgreSQL by (it loads Npgsql's factory itself).</summary>
    public const string Invariant = "Npgsql";

    private const string ScriptResource = "MoeMesh.Grains.Hosting.Clustering.PostgresMembership.sql";

    /// <summary>
    /// Makes <paramref name="silo"/> keep its membership in the PostgreSQL database of the configured
    /// connection string, read when the options are resolved (the validator has parsed it by then).
    /// </summary>
    public static void Configure(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new PostgresMembershipSchema(
            ConnectionString(sp.GetRequiredService<IOptions<MoeMeshSiloOptions>>()),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        silo.UseAdoNetClustering((OptionsBuilder<AdoNetClusteringSiloOptions> adoNet) => adoNet.Configure<IOptions<MoeMeshSiloOptions>>((o, moeMesh) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = ConnectionString(moeMesh);
        }));
    }

    private static string ConnectionString(IOptions<MoeMeshSiloOptions> options) => Parse(options.Value.Clustering.ConnectionString).ConnectionString;

    /// <summary>Parses a PostgreSQL connection string, reporting a malformed one against the setting it came from.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string? connectionString)
    {
        var text = ClusteringStartup.Require(connectionString, ClusteringProvider.Postgres);
        try
        {
            return new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException ex)
        {
            // Npgsql names the offending keyword but never echoes the value, so no password leaks here.
            throw new MoeMeshConfigurationException(
                $"{ClusteringStartup.ConnectionStringSetting} is not a valid PostgreSQL connection string ({ex.Message}); expected e.g. \"Host=db.lan;Database=moemesh;Username=moemesh;Password=...\".",
                ex);
        }
    }

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(PostgresMembershipSchema), ServiceLifecycleStage.First, ct => EnsureCreatedAsync(connectionString, ct, time));

    /// <summary>
    /// Applies the membership script to <paramref name="connectionString"/>'s database, waiting at most
    /// <see cref="ClusteringStartup.Timeout"/> for the server.
    /// </summary>
    /// <exception cref="MoeMeshConfigurationException">The server cannot be reached, refuses the login, or the script fails.</exception>
    public static async Task EnsureCreatedAsync(string connectionString, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        var settings = Parse(connectionString);
        var target = Describe(settings);
        var script = await ReadScriptAsync();

        using var deadline = new CancellationTokenSource(ClusteringStartup.Timeout, time ?? TimeProvider.System);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw ClusteringStartup.Unreachable(ClusteringProvider.Postgres, target, $"no answer within {ClusteringStartup.Timeout.TotalSeconds:0} s.", ex);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            throw ClusteringStartup.Unreachable(ClusteringProvider.Postgres, target, Reason(ex), ex);
        }

        try
        {
            await using var command = new NpgsqlCommand(script, connection);
            command.CommandTimeout = (int)ClusteringStartup.Timeout.TotalSeconds;
            await command.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MoeMeshConfigurationException(
                $"Postgres clustering: creating the membership schema in {target} took longer than {ClusteringStartup.Timeout.TotalSeconds:0} s; another session may be holding a lock on its tables.",
                ex);
        }
        catch (NpgsqlException ex)
        {
            var hint = (ex as PostgresException)?.SqlState switch
            {
                PostgresErrorCodes.InsufficientPrivilege =>
                    $" The user in {ClusteringStartup.ConnectionStringSetting} needs the right to create tables and functions in its schema (simplest: make it the database's owner).",
                PostgresErrorCodes.LockNotAvailable => " Another session holds a lock on the membership tables.",
                _ => "",
            };
            throw new MoeMeshConfigurationException($"Postgres clustering: cannot create the membership schema in {target}: {Reason(ex)}{hint}", ex);
        }
    }

    /// <summary>Where the connection string points, without its password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder settings)
    {
        var host = string.IsNullOrEmpty(settings.Host) ? "localhost" : settings.Host;
        var user = string.IsNullOrEmpty(settings.Username) ? "(default user)" : settings.Username;
        var database = string.IsNullOrEmpty(settings.Database) ? user : settings.Database;
        return $"PostgreSQL database '{database}' at {host}:{settings.Port} as '{user}'";
    }

    /// <summary>The server's own words for a refusal, or the underlying socket error for a failed connection.</summary>
    private static string Reason(Exception ex)
    {
        if (ex is PostgresException pg)
        {
            return $"{pg.MessageText} (SQLSTATE {pg.SqlState}).";
        }

        var root = ex;
        while (root.InnerException is { } inner)
        {
            root = inner;
        }

        var text = ReferenceEquals(root, ex) || ex.Message.Contains(root.Message, StringComparison.Ordinal)
            ? ex.Message
            : $"{ex.Message.TrimEnd('.')} ({root.Message.TrimEnd('.')})";
        return text.EndsWith('.') ? text : text + ".";
    }

    private static async Task<string> ReadScriptAsync()
    {
        await using var stream = typeof(PostgresMembershipSchema).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"Embedded resource {ScriptResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
