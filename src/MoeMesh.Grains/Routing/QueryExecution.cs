using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoeMesh.Catalog;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Experts;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Routing.Gating;
using MoeMesh.Grains.Telemetry;
using MoeMesh.Queries;
using Orleans.Runtime.Placement;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Runs one query's plan: responders in parallel and streaming; a responder whose silo fails is
/// re-planned on another replica or an alternative expert; stragglers past the latency budget are
/// cancelled once another answer exists; answers are combined by agreement, gate-weighted vote or
/// the aggregator expert.
/// </summary>
internal sealed partial class QueryExecution(
    Query query,
    QueryPlan plan,
    long startedTimestamp,
    CatalogSnapshot catalog,
    Func<Task<CatalogSnapshot>> refreshCatalog,
    Action<string> markUnreachable,
    Func<string, CancellationToken, Task> awaitSiloDeclaredDead,
    IGrainFactory grains,
    ChannelWriter<QueryEvent> events,
    LiveCostModel costs,
    RouterOptions options,
    BatchWindow batchWindow,
    ILogger logger)
{
    private readonly long _started = startedTimestamp;
    private readonly Dictionary<string, ExpertManifest> _manifests = catalog.Experts.ToDictionary(e => e.Id, StringComparer.Ordinal);
    private readonly HashSet<string> _suspectSilos = new(StringComparer.Ordinal);

    // Runs whose call was not delivered, with the silo it could not reach (null: not known).
    private readonly Dictionary<ExpertRun, string?> _undelivered = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _inPlan = plan.Steps.Select(s => s.ExpertId).ToHashSet(StringComparer.Ordinal);
    private readonly List<string> _notes = [];
    private readonly Lock _gate = new();

    public async Task<QueryResult> RunAsync(CancellationToken cancellationToken)
    {
        var responders = plan.Steps.Where(s => s.Role == ExpertRole.Responder).ToList();
        var aggregator = plan.Steps.FirstOrDefault(s => s.Role == ExpertRole.Aggregator);
        var single = responders.Count == 1 && aggregator is null;
        var request = ExpertPrompt.ForResponder(query);

        var running = responders.Select(step =>
        {
            var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            return (Step: step, Cancel: cts, Task: RunWithFailoverAsync(step, request, single, cts.Token, cancellationToken));
        }).ToList();

        await CancelStragglersAsync(running.Select(r => (r.Step, r.Cancel, (Task)r.Task)).ToList(), aggregator, cancellationToken);
        var runs = new List<ExpertRun>();
        foreach (var r in running)
        {
            runs.AddRange(await r.Task);
            r.Cancel.Dispose();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var answered = runs.Where(r => r.Role == ExpertRole.Responder && r.Outcome == RunOutcome.Completed).ToList();
        if (answered.Count == 0)
        {
            throw new ExpertUnavailableException(
                $"No expert could answer: {string.Join("; ", runs.Select(r => $"{r.ExpertId} {r.Outcome.ToString().ToLowerInvariant()}{(r.Error is null ? "" : ": " + r.Error)}"))}");
        }

        var (answer, choice, combination, aggregatorRuns) = await CombineAsync(answered, aggregator, single, cancellationToken);
        runs.AddRange(aggregatorRuns);

        var latency = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
        var energy = runs.Sum(r => r.EnergyJoules);
        var budgetMet = latency <= (query.Options.LatencyBudgetMs ?? double.PositiveInfinity)
                        && energy <= (query.Options.EnergyBudgetJoules ?? double.PositiveInfinity);
        if (!plan.Feasible)
        {
            _notes.Insert(0, $"No plan met the {plan.BindingBudget} budget; ran the cheapest one instead.");
        }

        return new QueryResult
        {
            QueryId = query.Id,
            Answer = answer,
            Choice = choice,
            Plan = plan,
            Runs = runs,
            LatencyMs = latency,
            EnergyJoules = energy,
            BudgetMet = budgetMet,
            Combination = combination,
            Notes = [.. _notes],
        };
    }

    /// <summary>
    /// Waits for the responders; once the latency budget (less the time the aggregator needs) is
    /// spent and at least one responder has answered, cancels the others.
    /// </summary>
    private async Task CancelStragglersAsync(List<(PlannedStep Step, CancellationTokenSource Cancel, Task Task)> running, PlannedStep? aggregator, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(running.Select(r => r.Task));
        if (query.Options.LatencyBudgetMs is not { } budget || running.Count < 2)
        {
            await all.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        var reserve = aggregator?.PredictedLatencyMs ?? 0;
        var remaining = TimeSpan.FromMilliseconds(Math.Max(0, budget - reserve - Stopwatch.GetElapsedTime(_started).TotalMilliseconds));
        var deadline = Task.Delay(remaining, cancellationToken);
        await Task.WhenAny(all, deadline).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (all.IsCompleted || cancellationToken.IsCancellationRequested)
        {
            return;
        }

        // Past the deadline: answer from what has finished; with nothing finished, wait for the first.
        while (!running.Any(r => r.Task.IsCompletedSuccessfully && ((Task<List<ExpertRun>>)r.Task).Result.Any(x => x.Outcome == RunOutcome.Completed)))
        {
            if (all.IsCompleted)
            {
                return;
            }

            await Task.WhenAny(running.Where(r => !r.Task.IsCompleted).Select(r => r.Task)).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        foreach (var straggler in running.Where(r => !r.Task.IsCompleted))
        {
            AddNote($"Cancelled {straggler.Step.ExpertId}: still running at {Stopwatch.GetElapsedTime(_started).TotalMilliseconds:0} ms against a {budget:0} ms budget (predicted {straggler.Step.PredictedLatencyMs:0} ms); answering from the others.");
            await straggler.Cancel.CancelAsync();
        }

        await all.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Runs a step, moving it to another replica or expert when its silo fails.</summary>
    private async Task<List<ExpertRun>> RunWithFailoverAsync(PlannedStep step, GenerationRequest request, bool isAnswer, CancellationToken stepToken, CancellationToken queryToken)
    {
        var runs = new List<ExpertRun>();
        var current = step;

        // A replica the plan wants loaded on a particular silo is placed there.
        string? hint = step.Resident ? null : step.Silo;
        for (var attempt = 0; ; attempt++)
        {
            var run = await RunOnceAsync(current, request, isAnswer, hint, stepToken, queryToken);
            runs.Add(run);
            if (run.Outcome != RunOutcome.Failed || attempt >= options.MaxFailovers || queryToken.IsCancellationRequested)
            {
                return runs;
            }

            // Where the failed replica ran: the report's silo, or what the catalog knows of the replica now.
            // The catalog may itself have lived on the failed silo; then the snapshot in hand has to do.
            try
            {
                catalog = await refreshCatalog().WaitAsync(options.CatalogRefreshTimeout, queryToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !queryToken.IsCancellationRequested)
            {
                LogCatalogUnavailable(logger, query.Id, ex.GetBaseException().Message);
            }

            string? failedSilo;
            bool undelivered;
            lock (_gate)
            {
                undelivered = _undelivered.Remove(run, out var unreached);
                failedSilo = undelivered
                    ? unreached
                    : run.Silo ?? catalog.Replicas.FirstOrDefault(r => r.Replica == new ExpertReplica(run.ExpertId, run.Replica))?.Silo;
            }

            if (undelivered && failedSilo is not null && failedSilo != current.Silo)
            {
                // Lost while addressing the grain: every retry fails alike until membership moves the
                // directory partition off the silo it could not reach.
                try
                {
                    await awaitSiloDeclaredDead(failedSilo, stepToken);
                }
                catch (OperationCanceledException) when (stepToken.IsCancellationRequested)
                {
                    return runs;
                }
            }

            if (failedSilo is not null)
            {
                lock (_gate)
                {
                    _suspectSilos.Add(failedSilo);
                }
            }

            var next = FindReplacement(current, run);
            if (next is null)
            {
                AddNote($"{current.ExpertId} failed ({run.Error}) and no other replica or expert could take its place.");
                return runs;
            }

            (current, hint) = next.Value;
            var message = $"{run.ExpertId} failed on {run.DeviceName ?? run.Silo ?? "its silo"} ({run.Error}); re-planned on {current.ExpertId} (replica {current.Replica}) on {current.DeviceName}.";
            AddNote(message);
            LogFailover(logger, query.Id, run.ExpertId, current.ExpertId, run.Error ?? "");
            await events.WriteAsync(new QueryNotice(message), CancellationToken.None);
        }
    }

    private (PlannedStep Step, string? HintSilo)? FindReplacement(PlannedStep failed, ExpertRun run)
    {
        HashSet<string> suspects;
        lock (_gate)
        {
            suspects = [.. _suspectSilos];
        }

        var live = catalog.Silos.Where(s => s.State == SiloState.Active && !suspects.Contains(s.Silo)).ToList();

        // The same expert elsewhere: a loaded replica first, else a fresh replica placed on a live silo that may host it.
        if (_manifests.TryGetValue(failed.ExpertId, out var manifest))
        {
            var loaded = catalog.Replicas.FirstOrDefault(r => r.Replica.ExpertId == failed.ExpertId && r.State == ReplicaState.Ready
                                                               && live.Any(s => s.Silo == r.Silo) && r.Replica.Replica != run.Replica);
            if (loaded is not null)
            {
                var silo = live.First(s => s.Silo == loaded.Silo);
                return (failed with { Replica = loaded.Replica.Replica, Silo = silo.Silo, DeviceName = silo.Device.Name, Resident = true }, null);
            }

            var host = live.FirstOrDefault(s => LiveCandidates.CanHost(s, manifest));
            if (host is not null)
            {
                var used = catalog.Replicas.Where(r => r.Replica.ExpertId == failed.ExpertId).Select(r => r.Replica.Replica).Append(run.Replica).Append(failed.Replica);
                var fresh = Math.Max(manifest.Replicas, used.Max() + 1);
                return (failed with { Replica = fresh, Silo = host.Silo, DeviceName = host.Device.Name, Resident = false }, host.Silo);
            }
        }

        // Another expert the router considered, best score first, that is not already in the plan.
        foreach (var candidate in plan.Candidates.Where(c => !_inPlan.Contains(c.ExpertId)).OrderByDescending(c => c.Score))
        {
            if (!_manifests.TryGetValue(candidate.ExpertId, out var alternative))
            {
                continue;
            }

            var host = live.FirstOrDefault(s => LiveCandidates.CanHost(s, alternative));
            if (host is null)
            {
                continue;
            }

            lock (_gate)
            {
                if (!_inPlan.Add(candidate.ExpertId))
                {
                    continue;
                }
            }

            var resident = catalog.Replicas.FirstOrDefault(r => r.Replica.ExpertId == alternative.Id && r.State == ReplicaState.Ready && r.Silo == host.Silo);
            return (new PlannedStep
            {
                ExpertId = alternative.Id,
                Replica = resident?.Replica.Replica ?? 0,
                Role = failed.Role,
                Silo = host.Silo,
                DeviceName = host.Device.Name,
                Weight = Math.Max(candidate.Score, 1e-3),
                PredictedLatencyMs = candidate.PredictedLatencyMs,
                PredictedEnergyJoules = candidate.PredictedEnergyJoules,
                Resident = resident is not null,
            }, resident is null ? host.Silo : null);
        }

        return null;
    }

    /// <summary>The latency budget left for a run (its engine stops there; responders leave the aggregator its time), or null without one.</summary>
    private double? TimeLeftMs(PlannedStep step) => query.Options.LatencyBudgetMs is { } budget
        ? Math.Max(1, budget - Stopwatch.GetElapsedTime(_started).TotalMilliseconds - costs.ReturnReserveMs(step.Silo)
            - (step.Role == ExpertRole.Responder ? plan.Steps.FirstOrDefault(s => s.Role == ExpertRole.Aggregator)?.PredictedLatencyMs ?? 0 : 0))
        : null;

    private async Task<ExpertRun> RunOnceAsync(PlannedStep step, GenerationRequest request, bool isAnswer, string? hintSilo, CancellationToken stepToken, CancellationToken queryToken)
    {
        var replica = new ExpertReplica(step.ExpertId, step.Replica);
        using var activity = MoeMeshInstrumentation.Source.StartActivity(step.Role == ExpertRole.Aggregator ? "moemesh.aggregate" : "moemesh.expert");
        activity?.SetTag("moemesh.expert", step.ExpertId);
        activity?.SetTag("moemesh.role", step.Role.ToString());
        var started = Stopwatch.GetTimestamp();
        var text = new StringBuilder();
        ExpertReport? report = null;
        try
        {
            if (hintSilo is not null)
            {
                // Place a fresh replica on a silo known to be alive rather than wherever membership last pointed.
                RequestContext.Set(IPlacementDirector.PlacementHintKey, SiloAddress.FromParsableString(hintSilo));
            }

            // Runs for the same expert gather for the batch window so the engine decodes them together.
            using var load = costs.Track(hintSilo ?? step.Silo, step.Role == ExpertRole.Responder ? _started : null, request);
            await batchWindow.JoinAsync(step.ExpertId, stepToken);
            var expert = grains.GetGrain<IExpertGrain>(replica.GrainKey);
            var run = request.WithNewRunId() with { TimeBudgetMs = TimeLeftMs(step) };
            var stream = expert.GenerateAsync(run, stepToken);
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            using var cancelOnExpert = expert.CancelOnExpertWhenCancelled(run, stepToken);
            await foreach (var chunk in stream.WithCancellation(stepToken))
            {
                if (chunk.Text.Length > 0)
                {
                    text.Append(chunk.Text);
                    await events.WriteAsync(new TokenProduced(chunk.Text, step.ExpertId, isAnswer), CancellationToken.None);
                }

                report ??= chunk.Report;
            }

            var body = text.ToString();
            if (report is not null && _manifests.TryGetValue(step.ExpertId, out var manifest) && catalog.Silos.FirstOrDefault(s => s.Silo == report.Silo) is { } silo)
            {
                costs.Observe(manifest, silo, report.Metrics, report.EnergyJoules, load);
            }

            return Finish(step, started, body, RunOutcome.Completed, report, null, ChoiceExtractor.Extract(body, query.Choices.Count));
        }
        catch (OperationCanceledException) when (queryToken.IsCancellationRequested)
        {
            return Finish(step, started, text.ToString(), RunOutcome.Cancelled, report, "cancelled by the caller", null);
        }
        catch (OperationCanceledException) when (stepToken.IsCancellationRequested)
        {
            return Finish(step, started, text.ToString(), RunOutcome.Cancelled, report, "cancelled: past the latency budget", null);
        }
        catch (InvalidRequestException)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogRunFailed(logger, ex, step.ExpertId);
            var failed = Finish(step, started, text.ToString(), RunOutcome.Failed, report, ex.GetBaseException().Message, null);
            if (UndeliveredSilo.IsDeliveryFailure(ex))
            {
                // The message never arrived: other queries should not try the silo it could not reach
                // until membership catches up; that silo is the one the failure names, not the plan's.
                var silo = UndeliveredSilo.Find(ex, report?.Silo);
                if (silo is not null)
                {
                    markUnreachable(silo);
                }

                lock (_gate)
                {
                    _undelivered[failed] = silo;
                }
            }

            return failed;
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
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
            LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            EnergyJoules = report?.EnergyJoules ?? 0,
            EnergyMeter = report?.EnergyMeter ?? "none",
            PredictedLatencyMs = step.PredictedLatencyMs,
            PredictedEnergyJoules = step.PredictedEnergyJoules,
            Error = error,
            LoadMs = report?.LoadMs ?? 0,
            Choice = choice,
        };
        events.TryWrite(new RunFinished(run));
        return run;
    }

    /// <summary>
    /// One answer from the responders': the only one; for multiple choice, agreement or the
    /// aggregator (or a gate-weighted vote without one); otherwise the aggregator or the answer of
    /// the responder weighted highest.
    /// </summary>
    private async Task<(string Answer, string? Choice, string Combination, List<ExpertRun> AggregatorRuns)> CombineAsync(
        List<ExpertRun> answered, PlannedStep? aggregator, bool single, CancellationToken cancellationToken)
    {
        double WeightOf(ExpertRun r) => plan.Steps.FirstOrDefault(s => s.ExpertId == r.ExpertId)?.Weight ?? 1;
        if (answered.Count == 1 && (single || aggregator is null))
        {
            await StreamAnswerAsync(answered[0], single);
            return (answered[0].Text, answered[0].Choice, "single", []);
        }

        var letters = answered.Select(r => r.Choice).ToList();
        var agree = query.Choices.Count > 0
            ? letters.All(l => l is not null) && letters.Distinct().Count() == 1
            : answered.Select(r => Normalize(r.Text)).Distinct().Count() == 1;
        var vote = Vote(answered, WeightOf);

        if (aggregator is not null && (agree || answered.Count == 1))
        {
            var skipped = Skip(aggregator, agree ? "the experts agree" : "only one expert answered");
            await StreamAnswerAsync(vote.Best, false);
            return (vote.Best.Text, vote.Choice, agree ? "agreement" : "single", [skipped]);
        }

        if (aggregator is not null)
        {
            var spent = Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
            if (query.Options.LatencyBudgetMs is { } budget && spent + aggregator.PredictedLatencyMs > budget && plan.Feasible)
            {
                var skipped = Skip(aggregator, $"no time left in the {budget:0} ms budget");
                await StreamAnswerAsync(vote.Best, false);
                return (vote.Best.Text, vote.Choice, query.Choices.Count > 0 ? "vote" : "best-weighted", [skipped]);
            }

            var runs = await RunWithFailoverAsync(aggregator, AggregatorPrompt.Build(query, answered), isAnswer: true, cancellationToken, cancellationToken);
            var final = runs[^1];
            if (final.Outcome == RunOutcome.Completed)
            {
                var letter = final.Choice ?? vote.Choice;
                return (final.Text, letter, "aggregator", runs);
            }

            AddNote($"The aggregator {aggregator.ExpertId} did not answer ({final.Error}); combined the experts by vote instead.");
            await StreamAnswerAsync(vote.Best, false);
            return (vote.Best.Text, vote.Choice, "vote", runs);
        }

        if (agree)
        {
            await StreamAnswerAsync(vote.Best, false);
            return (vote.Best.Text, vote.Choice, "agreement", []);
        }

        await StreamAnswerAsync(vote.Best, false);
        return (vote.Best.Text, vote.Choice, query.Choices.Count > 0 && vote.Choice is not null ? "vote" : "best-weighted", []);
    }

    /// <summary>
    /// The gate-weighted vote over the responders' letters, in plan order (ties go to the heaviest
    /// ballot, then the earliest), exactly as the evaluation combines them; without letters, the
    /// responder weighted highest.
    /// </summary>
    private (ExpertRun Best, string? Choice) Vote(List<ExpertRun> answered, Func<ExpertRun, double> weightOf)
    {
        var ordered = answered.OrderBy(r => StepOrder(r)).ToList();
        if (query.Choices.Count > 0)
        {
            var ballots = ordered.Select(r => new Ballot(r.Choice, weightOf(r))).ToArray();
            var outcome = WeightedVote.Combine(ballots);
            if (outcome.Answer is { } letter)
            {
                var best = ordered.Where(r => r.Choice == letter).MaxBy(weightOf)!;
                return (best, letter);
            }
        }

        var top = ordered.MaxBy(weightOf)!;
        return (top, top.Choice);
    }

    private int StepOrder(ExpertRun run)
    {
        var index = plan.Steps.ToList().FindIndex(s => s.ExpertId == run.ExpertId && s.Role == run.Role);
        return index < 0 ? int.MaxValue : index;
    }

    private ExpertRun Skip(PlannedStep aggregator, string why)
    {
        AddNote($"Skipped the aggregator {aggregator.ExpertId}: {why}.");
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
            EnergyMeter = "none",
            Error = why,
        };
        events.TryWrite(new RunFinished(run));
        return run;
    }

    private async Task StreamAnswerAsync(ExpertRun run, bool alreadyStreamed)
    {
        if (!alreadyStreamed)
        {
            await events.WriteAsync(new TokenProduced(run.Text, run.ExpertId, IsAnswer: true), CancellationToken.None);
        }
    }

    private void AddNote(string note)
    {
        lock (_gate)
        {
            _notes.Add(note);
        }
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Query {QueryId}: {Failed} failed ({Reason}); re-planned on {Replacement}")]
    private static partial void LogFailover(ILogger logger, string queryId, string failed, string replacement, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Query {QueryId}: catalog not reachable during failover ({Reason}); re-planning from the last snapshot")]
    private static partial void LogCatalogUnavailable(ILogger logger, string queryId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expert {ExpertId} failed during a query")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string expertId);
}
