namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>What the membership checks at silo start share: the setting they report on and how long they may wait.</summary>
internal static class ClusteringStartup
{
    /// <summary>The configuration key of the Redis or PostgreSQL connection string.</summary>
    public const string ConnectionStringSetting = "MoeMesh:Clustering:ConnectionString";

    /// <summary>
    /// The longest a silo waits for its membership store at start-up before giving up with an error,
    /// so an unreachable store reads as a configuration problem instead of a silo that never starts.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The connection string, or a configuration error when there is none.</summary>
    public static string Require(string? connectionString, ClusteringProvider provider)
        => string.IsNullOrWhiteSpace(connectionString)
            ? throw new MoeMeshConfigurationException($"{ConnectionStringSetting} is required for {provider} clustering.")
            : connectionString;

    /// <summary>A start-up failure worded as a configuration problem pointing at the connection string.</summary>
    public static MoeMeshConfigurationException Unreachable(ClusteringProvider provider, string target, string reason, Exception? inner = null)
    {
        var message = $"{provider} clustering: cannot use {target}: {reason} Check {ConnectionStringSetting} and that the server is running and reachable from this box.";
        return inner is null ? new MoeMeshConfigurationException(message) : new MoeMeshConfigurationException(message, inner);
    }
}
