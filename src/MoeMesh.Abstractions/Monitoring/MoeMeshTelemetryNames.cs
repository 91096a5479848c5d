namespace MoeMesh.Monitoring;

/// <summary>
/// The names under which MoeMesh publishes its traces and metrics, shared by the hosts that emit them
/// (silos) and those that export them (dashboards, tools), so an exporter needs no reference to the grains.
/// </summary>
public static class MoeMeshTelemetryNames
{
    /// <summary>The activity source of queries, expert runs and generations.</summary>
    public const string SourceName = "MoeMesh";

    /// <summary>The meter of query, token, energy and residency metrics.</summary>
    public const string MeterName = "MoeMesh";
}
