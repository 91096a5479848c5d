using System.Data.Common;
using Npgsql;

namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>
/// Creates the membership tables and queries Orleans' ADO.NET clustering needs in PostgreSQL,
/// when they are missing, before the silo joins. The script is idempotent.
/// </summary>
internal sealed class PostgresMembershipSchema(string connectionString) : ILifecycleParticipant<ISiloLifecycle>
{
    public const string Invariant = "Npgsql";

    private const string ScriptResource = "MoeMesh.Grains.Hosting.Clustering.PostgresMembership.sql";

    /// <summary>Makes the Npgsql provider known to <see cref="DbProviderFactories"/>, where Orleans looks it up.</summary>
    public static void RegisterProvider() => DbProviderFactories.RegisterFactory(Invariant, NpgsqlFactory.Instance);

    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(nameof(PostgresMembershipSchema), ServiceLifecycleStage.First, EnsureCreatedAsync);

    /// <summary>Applies the schema script to <paramref name="connectionString"/>'s database.</summary>
    public static async Task EnsureCreatedAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new MoeMeshConfigurationException($"Cannot connect to PostgreSQL for clustering ({ex.Message}); check MoeMesh:Clustering:ConnectionString.", ex);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = await ReadScriptAsync();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private Task EnsureCreatedAsync(CancellationToken cancellationToken) => EnsureCreatedAsync(connectionString, cancellationToken);

    private static async Task<string> ReadScriptAsync()
    {
        await using var stream = typeof(PostgresMembershipSchema).Assembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"Embedded resource {ScriptResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
