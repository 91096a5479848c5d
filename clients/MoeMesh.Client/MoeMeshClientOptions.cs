using System.ComponentModel.DataAnnotations;
using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>How the SDK reaches the mesh.</summary>
public sealed class MoeMeshClientOptions
{
    /// <summary>The local mesh's first gateway.</summary>
    public const string LocalGateway = "127.0.0.1:30000";

    /// <summary>Gateway endpoints ("host:port"); empty means the local mesh (<see cref="LocalGateway"/>).</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>The mesh's cluster id.</summary>
    [Required]
    public string ClusterId { get; set; } = "moemesh";

    /// <summary>The mesh's service id.</summary>
    [Required]
    public string ServiceId { get; set; } = "moemesh";

    public const int DefaultMaxQueryRetries = 2;

    /// <summary>How many times a query is asked again when the silo running it fails.</summary>
    [Range(0, 10)]
    public int MaxQueryRetries { get; set; } = DefaultMaxQueryRetries;

    /// <summary>Options used when a call gives none (and by the chat client).</summary>
    public QueryOptions DefaultQueryOptions { get; set; } = new();
}
