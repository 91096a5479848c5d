namespace MoeMesh.Dashboard.Telemetry;

/// <summary>How OTLP exports: gRPC or HTTP with protobuf bodies.</summary>
public enum OtlpProtocol
{
    Grpc = 0,
    HttpProtobuf = 1,
}

/// <summary>
/// OpenTelemetry export of MoeMesh's traces and metrics, bound from <c>MoeMesh:Telemetry</c>. Nothing is
/// exported unless <see cref="OtlpEndpoint"/> or <see cref="Console"/> is set.
/// </summary>
public sealed class MoeMeshTelemetryOptions
{
    public const string SectionName = "MoeMesh:Telemetry";

    /// <summary>An OTLP collector, such as <c>http://collector:4317</c> (gRPC) or <c>http://collector:4318</c> (HTTP).</summary>
    public string? OtlpEndpoint { get; set; }

    public OtlpProtocol OtlpProtocol { get; set; } = OtlpProtocol.Grpc;

    /// <summary>Also write spans and metrics to the console.</summary>
    public bool Console { get; set; }

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    public string ServiceName { get; set; } = "moemesh";

    /// <summary>How often metrics are exported, in milliseconds.</summary>
    public int MetricExportIntervalMs { get; set; } = 10_000;

    /// <summary>True when something is exported.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(OtlpEndpoint) || Console;

    /// <summary>Problems with the options, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint)
            && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            problems.Add($"{SectionName}:OtlpEndpoint '{OtlpEndpoint}' must be an http or https URL, such as http://localhost:4317");
        }

        if (!Enum.IsDefined(OtlpProtocol))
        {
            problems.Add($"{SectionName}:OtlpProtocol must be Grpc or HttpProtobuf");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            problems.Add($"{SectionName}:ServiceName must not be empty");
        }

        if (MetricExportIntervalMs is < 100 or > 3_600_000)
        {
            problems.Add($"{SectionName}:MetricExportIntervalMs must be between 100 and 3600000, got {MetricExportIntervalMs}");
        }

        return problems;
    }
}
