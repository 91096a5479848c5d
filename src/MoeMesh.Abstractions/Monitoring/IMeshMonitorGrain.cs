using Orleans.Concurrency;

namespace MoeMesh.Monitoring;

/// <summary>
/// Collects routing decisions and silo telemetry for the dashboard and scripts. One activation,
/// key 0, in memory: it keeps a recent window, not history.
/// </summary>
public interface IMeshMonitorGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a finished query to the feed.</summary>
    [OneWay]
    Task RecordDecisionAsync(DecisionRecord decision);

    /// <summary>Adds finished queries to the feed, in order: a router's batch of decisions in one message.</summary>
    [OneWay]
    Task RecordDecisionsAsync(IReadOnlyList<DecisionRecord> decisions);

    /// <summary>Updates a silo's live state.</summary>
    [OneWay]
    Task ReportSiloAsync(SiloTelemetry telemetry);

    /// <summary>Silos, per-expert figures, the newest decisions and the chart samples.</summary>
    Task<MeshOverview> GetOverviewAsync(int recentDecisions = 50);

    /// <summary>Decisions recorded after <paramref name="sequence"/>, oldest first (at most <paramref name="max"/>).</summary>
    Task<IReadOnlyList<DecisionRecord>> GetDecisionsAfterAsync(long sequence, int max = 100);
}
