using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Grains.Routing.Planning;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>What the router's silo lends every query it runs.</summary>
/// <param name="Experts">Reaches the expert grains.</param>
/// <param name="Costs">The live cost model, refined by each run's measurements.</param>
/// <param name="BatchWindow">Gathers runs bound for one expert so they decode together.</param>
/// <param name="Options">The router's settings (failovers, timeouts).</param>
/// <param name="Time">The clock for latencies and deadlines.</param>
/// <param name="RefreshCatalog">A fresh catalog snapshot, after a silo failed.</param>
/// <param name="MarkUnreachable">Keeps a silo a message could not reach out of plans for a while.</param>
/// <param name="AwaitSiloDeclaredDead">Waits until membership no longer holds the silo active.</param>
/// <param name="Logger">Where failures and failovers are logged.</param>
internal sealed record ExecutionServices(
    ExpertReferences Experts,
    LiveCostModel Costs,
    BatchWindow BatchWindow,
    RouterOptions Options,
    TimeProvider Time,
    Func<CancellationToken, Task<CatalogSnapshot>> RefreshCatalog,
    Action<string> MarkUnreachable,
    Func<string, CancellationToken, Task> AwaitSiloDeclaredDead,
    ILogger Logger);
