using System.Text;
using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Experts;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Grains.Telemetry;
using MoeMesh.Queries;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>One attempt at a step: the run it made, and whether its call never reached the expert.</summary>
/// <param name="Run">The run, as reported in the result.</param>
/// <param name="Undelivered">True when the call was lost while addressing the grain (the message never arrived).</param>
/// <param name="UnreachedSilo">The silo an undelivered call could not reach, when known.</param>
internal sealed record RunAttempt(ExpertRun Run, bool Undelivered = false, string? UnreachedSilo = null);

/// <summary>
/// Runs one step once on its expert grain: joins the batch window, streams the tokens into the
/// query's events, teaches the cost model what the run measured and reports how it ended.
/// </summary>
internal sealed partial class ExpertCall(ExecutionServices services, QueryState state)
{
    public async Task<RunAttempt> RunAsync(PlannedStep step, GenerationRequest request, bool isAnswer, string? hintSilo, CancellationToken stepToken, CancellationToken queryToken)
    {
        var replica = new ExpertReplica(step.ExpertId, step.Replica);
        using var activity = MoeMeshInstrumentation.Source.StartActivity(step.Role == ExpertRole.Aggregator ? "moemesh.aggregate" : "moemesh.expert");
        activity?.SetTag("moemesh.expert", step.ExpertId);
        activity?.SetTag("moemesh.role", step.Role.ToString());
        var started = services.Time.GetTimestamp();
        var received = new Received();
        try
        {
            if (hintSilo is not null)
            {
                // Place a fresh replica on a silo known to be alive rather than wherever membership last pointed.
                RequestContext.Set(IPlacementDirector.PlacementHintKey, SiloAddress.FromParsableString(hintSilo));
            }

            // Counted in the silo's load from now; a responder's time outside the engine starts with the query.
            using var load = services.Costs.Track(hintSilo ?? step.Silo, step.Role == ExpertRole.Responder ? state.Started : null, request);
            using var batch = services.Costs.TrackReplica(step.ExpertId, hintSilo ?? step.Silo);

            // Runs for the same expert gather for the batch window so the engine decodes them together.
            await services.BatchWindow.JoinAsync(step.ExpertId, stepToken);
            var expert = services.Experts.Of(replica);
            var run = request.WithNewRunId() with { TimeBudgetMs = TimeLeftMs(step) };
            var stream = expert.GenerateAsync(run, stepToken);
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            using var cancelOnExpert = expert.CancelOnExpertWhenCancelled(run, stepToken);
            await ReadAsync(stream, step, isAnswer, received, stepToken);

            var body = received.Text.ToString();
            Observe(step, received.Report, load, batch);
            return new RunAttempt(Finish(step, started, body, RunOutcome.Completed, received.Report, null, ChoiceExtractor.Extract(body, state.Query.Choices.Count)));
        }
        catch (OperationCanceledException) when (queryToken.IsCancellationRequested)
        {
            return new RunAttempt(Finish(step, started, received.Text.ToString(), RunOutcome.Cancelled, received.Report, "cancelled by the caller", null));
        }
        catch (OperationCanceledException) when (stepToken.IsCancellationRequested)
        {
            return new RunAttempt(Finish(step, started, received.Text.ToString(), RunOutcome.Cancelled, received.Report, "cancelled: past the latency budget", null));
        }
        catch (InvalidRequestException)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogRunFailed(services.Logger, ex, step.ExpertId);
            var failed = Finish(step, started, received.Text.ToString(), RunOutcome.Failed, received.Report, ex.GetBaseException().Message, null);
            if (!UndeliveredSilo.IsDeliveryFailure(ex))
            {
                return new RunAttempt(failed);
            }

            // The message never arrived: other queries should not try the silo it could not reach
            // until membership catches up; that silo is the one the failure names, not the plan's.
            var silo = UndeliveredSilo.Find(ex, received.Report?.Silo);
            if (silo is not null)
            {
                services.MarkUnreachable(silo);
            }

            return new RunAttempt(failed, Undelivered: true, silo);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    /// <summary>Reports a planned aggregator as skipped, and why.</summary>
    public ExpertRun Skip(PlannedStep aggregator, string why)
    {
        state.AddNote($"Skipped the aggregator {aggregator.ExpertId}: {why}.");
        var run = new ExpertRun
        {
            ExpertId = aggregator.ExpertId,
            Replica = aggregator.Replica,
            Role = ExpertRole.Aggregator,
            Silo = aggregator.Silo,
            DeviceName = aggregator.DeviceName,
            Outcome = RunOutcome.Skipped,
            PredictedLatencyMs = aggregator.PredictedLatencyMs,
            PredictedEnergyJoules = aggregator.PredictedEnergyJoules,
            EnergyMeter = MeterKind.None,
            Error = why,
        };
        state.Events.TryWrite(new RunFinished(run));
        return run;
    }

    /// <summary>
    /// The latency budget left for a run (its engine stops there), keeping back the answer's way home
    /// and, for a responder, the aggregator's predicted time; null without a budget.
    /// </summary>
    private double? TimeLeftMs(PlannedStep step) => state.Query.Options.LatencyBudgetMs is { } budget
        ? Math.Max(1, budget - services.Time.GetElapsedTime(state.Started).TotalMilliseconds - services.Costs.ReturnReserveMs(step.Silo)
            - (step.Role == ExpertRole.Responder ? state.Plan.Steps.FirstOrDefault(s => s.Role == ExpertRole.Aggregator)?.PredictedLatencyMs ?? 0 : 0))
        : null;

    /// <summary>Reads the expert's stream into <paramref name="received"/>, passing its text on as the query's tokens.</summary>
    private async Task ReadAsync(IAsyncEnumerable<ExpertChunk> stream, PlannedStep step, bool isAnswer, Received received, CancellationToken stepToken)
    {
        var chunks = stream.GetAsyncEnumerator(stepToken);
        var ended = false;
        try
        {
            while (await chunks.MoveNextAsync())
            {
                var chunk = chunks.Current;
                if (chunk.Text.Length > 0)
                {
                    received.Text.Append(chunk.Text);
                    await state.Events.WriteAsync(new TokenProduced(chunk.Text, step.ExpertId, isAnswer), CancellationToken.None);
                }

                received.Report ??= chunk.Report;
            }

            ended = true;
        }
        finally
        {
            // A stream that ended has nothing left to say: the expert's silo dropped its enumerator
            // when it sent the end, so releasing it is only another message there, which the answer
            // need not wait for (and which is skipped when nothing traces it, see CompletedStreams).
            // A stream cut short is released before going on, as that release is what stops the run there.
            if (ended)
            {
                if (CompletedStreams.NeedRelease)
                {
                    ReleaseInBackground(chunks, step.ExpertId);
                }
            }
            else
            {
                await chunks.DisposeAsync();
            }
        }
    }

    /// <summary>Releases a finished expert stream without holding the run up; a failure to release is only logged.</summary>
    private void ReleaseInBackground(IAsyncEnumerator<ExpertChunk> chunks, string expertId)
    {
        _ = ObserveAsync(chunks.DisposeAsync(), services.Logger, expertId);

        static async Task ObserveAsync(ValueTask releasing, ILogger logger, string expertId)
        {
            try
            {
                await releasing;
            }
            catch (Exception ex)
            {
                LogReleaseFailed(logger, ex, expertId);
            }
        }
    }

    private void Observe(PlannedStep step, ExpertReport? report, LiveRun load, ReplicaRun batch)
    {
        if (report is null || !state.Manifests.TryGetValue(step.ExpertId, out var manifest))
        {
            return;
        }

        foreach (var silo in state.Catalog.Silos)
        {
            if (silo.Silo == report.Silo)
            {
                services.Costs.Observe(manifest, silo, report.Metrics, report.EnergyJoules, load, batch);
                return;
            }
        }
    }

    private ExpertRun Finish(PlannedStep step, long started, string text, RunOutcome outcome, ExpertReport? report, string? error, string? choice)
    {
        var run = new ExpertRun
        {
            ExpertId = step.ExpertId,
            Replica = report?.Replica.Replica ?? step.Replica,
            Role = step.Role,
            Silo = report?.Silo ?? step.Silo,
            DeviceName = report?.DeviceName ?? step.DeviceName,
            Outcome = outcome,
            Text = text,
            Metrics = report?.Metrics,
            LatencyMs = services.Time.GetElapsedTime(started).TotalMilliseconds,
            EnergyJoules = report?.EnergyJoules ?? 0,
            EnergyMeter = report?.EnergyMeter ?? MeterKind.None,
            PredictedLatencyMs = step.PredictedLatencyMs,
            PredictedEnergyJoules = step.PredictedEnergyJoules,
            Error = error,
            LoadMs = report?.LoadMs ?? 0,
            Choice = choice,
        };
        state.Events.TryWrite(new RunFinished(run));
        return run;
    }

    /// <summary>What a run's stream delivered so far: its text and its report.</summary>
    private sealed class Received
    {
        public StringBuilder Text { get; } = new();

        public ExpertReport? Report { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Expert {ExpertId}: releasing its finished stream failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string expertId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expert {ExpertId} failed during a query")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string expertId);
}
