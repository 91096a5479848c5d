using Microsoft.Extensions.Logging;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>
/// Runs a step, moving it to another replica or expert when its silo fails, up to
/// <see cref="RouterOptions.MaxFailovers"/> times; says so in the query's notes and events.
/// </summary>
internal sealed partial class FailoverRunner(ExecutionServices services, QueryState state, ExpertCall call, ReplacementFinder replacements)
{
    /// <summary>Every run the step took, the last one the one that counts.</summary>
    public async Task<List<ExpertRun>> RunAsync(PlannedStep step, GenerationRequest request, bool isAnswer, CancellationToken stepToken, CancellationToken queryToken)
    {
        var runs = new List<ExpertRun>();
        var current = step;

        // A replica the plan wants loaded on a particular silo is placed there.
        var hint = step.Resident ? null : step.Silo;
        for (var attempt = 0; ; attempt++)
        {
            var tried = await call.RunAsync(current, request, isAnswer, hint, stepToken, queryToken);
            var run = tried.Run;
            runs.Add(run);
            if (run.Outcome != RunOutcome.Failed || attempt >= services.Options.MaxFailovers || queryToken.IsCancellationRequested)
            {
                return runs;
            }

            await RefreshCatalogAsync(queryToken);

            // Where the failed replica ran: the silo the call could not reach, the report's silo, or
            // what the catalog knows of the replica now.
            var failedSilo = tried.Undelivered
                ? tried.UnreachedSilo
                : run.Silo ?? state.Catalog.Replicas.FirstOrDefault(r => r.Replica == new ExpertReplica(run.ExpertId, run.Replica))?.Silo;
            if (tried.Undelivered && failedSilo is not null && failedSilo != current.Silo)
            {
                // Lost while addressing the grain: every retry fails alike until membership moves the
                // directory partition off the silo it could not reach.
                try
                {
                    await services.AwaitSiloDeclaredDead(failedSilo, stepToken);
                }
                catch (OperationCanceledException) when (stepToken.IsCancellationRequested)
                {
                    return runs;
                }
            }

            if (failedSilo is not null)
            {
                state.SuspectSilo(failedSilo);
            }

            if (replacements.Find(current, run, state.Catalog, state.SuspectSilos()) is not { } next)
            {
                state.AddNote($"{current.ExpertId} failed ({run.Error}) and no other replica or expert could take its place.");
                return runs;
            }

            (current, hint) = (next.Step, next.HintSilo);
            var message = $"{run.ExpertId} failed on {run.DeviceName ?? run.Silo ?? "its silo"} ({run.Error}); re-planned on {current.ExpertId} (replica {current.Replica}) on {current.DeviceName}.";
            state.AddNote(message);
            LogFailover(services.Logger, state.Query.Id, run.ExpertId, current.ExpertId, run.Error ?? "");
            await state.Events.WriteAsync(new QueryNotice(message), CancellationToken.None);
        }
    }

    /// <summary>A fresh catalog; the catalog may itself have lived on the failed silo, and then the snapshot in hand has to do.</summary>
    private async Task RefreshCatalogAsync(CancellationToken queryToken)
    {
        try
        {
            state.Catalog = await services.RefreshCatalog(CancellationToken.None).WaitAsync(services.Options.CatalogRefreshTimeout, services.Time, queryToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !queryToken.IsCancellationRequested)
        {
            LogCatalogUnavailable(services.Logger, state.Query.Id, ex.GetBaseException().Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Query {QueryId}: {Failed} failed ({Reason}); re-planned on {Replacement}")]
    private static partial void LogFailover(ILogger logger, string queryId, string failed, string replacement, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Query {QueryId}: catalog not reachable during failover ({Reason}); re-planning from the last snapshot")]
    private static partial void LogCatalogUnavailable(ILogger logger, string queryId, string reason);
}
