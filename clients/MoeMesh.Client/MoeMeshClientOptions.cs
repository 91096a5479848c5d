using System.ComponentModel.DataAnnotations;
using MoeMesh.Queries;
using MoeMesh.Security;

namespace MoeMesh.Client;

/// <summary>How the SDK reaches the mesh; bound from the <c>MoeMesh:Client</c> section.</summary>
public sealed class MoeMeshClientOptions : IValidatableObject
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "MoeMesh:Client";

    /// <summary>The local mesh's first gateway.</summary>
    public const string LocalGateway = "127.0.0.1:30000";

    /// <summary>Gateway endpoints ("host:port"); empty means the local mesh (<see cref="LocalGateway"/>).</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>The mesh's cluster id.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = $"{SectionName}:{nameof(ClusterId)} must not be empty.")]
    public string ClusterId { get; set; } = "moemesh";

    /// <summary>The mesh's service id.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = $"{SectionName}:{nameof(ServiceId)} must not be empty.")]
    public string ServiceId { get; set; } = "moemesh";

    public const int DefaultMaxQueryRetries = 8;

    /// <summary>
    /// How many times a query is asked again when the silo running it fails. With the default delays,
    /// 8 retries span about 21 s: longer than membership takes to declare a killed silo dead, after
    /// which no message goes to it.
    /// </summary>
    [Range(0, 10)]
    public int MaxQueryRetries { get; set; } = DefaultMaxQueryRetries;

    /// <summary>
    /// The wait before the first retry; each later retry waits about twice as long, up to 5 s, so the
    /// mesh has time to notice a lost silo instead of being asked again at once through it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Whether retry delays are spread at random around the doubling schedule, so clients that lost
    /// the same silo do not all come back at the same instant.
    /// </summary>
    public bool RetryJitter { get; set; } = true;

    /// <summary>
    /// How long a query's stream may stay silent before the router running it counts as lost and the
    /// query is asked again. Routers send a heartbeat every 2 s while a query runs; null waits forever.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan? RouterSilenceTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Mutual TLS to the gateways: this client's certificate and the mesh CA. Required when the mesh's
    /// silos use TLS; a gateway whose certificate the mesh CA did not sign is refused.
    /// </summary>
    public MeshTlsOptions Tls { get; set; } = new();

    /// <summary>Options used when a call gives none (and by the chat client).</summary>
    public QueryOptions DefaultQueryOptions { get; set; } = new();

    /// <summary>Checks what attributes cannot: the gateway endpoints and the TLS files (read now, so a foreign CA fails at start).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Gateways.Count; i++)
        {
            if (!GatewayEndpoint.TryParse(Gateways[i], out _, out var error))
            {
                yield return new ValidationResult($"{SectionName}:{nameof(Gateways)}:{i} {error}", [nameof(Gateways)]);
            }
        }

        var problems = Tls.Problems();
        foreach (var problem in problems)
        {
            yield return new ValidationResult(problem, [nameof(Tls)]);
        }

        if (problems.Count == 0 && Tls.Enabled && TryLoadCertificates() is { } tlsError)
        {
            yield return new ValidationResult(tlsError, [nameof(Tls)]);
        }
    }

    private string? TryLoadCertificates()
    {
        try
        {
            var credentials = MeshCertificates.Load(Tls);
            credentials.Certificate.Dispose();
            credentials.Authority.Dispose();
            return null;
        }
        catch (MeshTlsException ex)
        {
            return ex.Message;
        }
    }
}
