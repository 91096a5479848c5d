using System.Globalization;
using MoeMesh.Errors;
using MoeMesh.Queries;
using MoeMesh.Routing.Gating;
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>
/// Runs one query's plan: responders in parallel and streaming, each with failover
/// (<see cref="FailoverRunner"/>); stragglers past the plan's deadline cancelled once another answer
/// exists (<see cref="StragglerPolicy"/>); answers combined by <see cref="AnswerCombiner"/>, with the
/// aggregator expert when the plan has one and it is needed.
/// </summary>
internal sealed class QueryExecution
{
    private readonly QueryState _state;
    private readonly ExecutionServices _services;
    private readonly ExpertCall _call;
    private readonly FailoverRunner _failover;
    private readonly StragglerPolicy _stragglers;

    public QueryExecution(QueryState state, ExecutionServices services)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(services);
        _state = state;
        _services = services;
        _call = new ExpertCall(services, state);
        _failover = new FailoverRunner(services, state, _call, new ReplacementFinder(state.Plan, state.Manifests));
        _stragglers = new StragglerPolicy(state.Plan, state.Started, services.Time);
    }

    public async Task<QueryResult> RunAsync(CancellationToken cancellationToken)
    {
        var query = _state.Query;
        var plan = _state.Plan;
        var responders = plan.Steps.Where(s => s.Role == ExpertRole.Responder).ToList();
        var aggregator = plan.Steps.FirstOrDefault(s => s.Role == ExpertRole.Aggregator);
        var single = responders.Count == 1 && aggregator is null;
        var request = ExpertPrompt.ForResponder(query);

        var running = new List<RunningStep>(responders.Count);
        foreach (var step in responders)
        {
            var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            running.Add(new RunningStep(step, cts, _failover.RunAsync(step, request, single, cts.Token, cancellationToken)));
        }

        foreach (var note in await _stragglers.WaitAsync(running, cancellationToken))
        {
            _state.AddNote(note);
        }

        var runs = new List<ExpertRun>();
        foreach (var r in running)
        {
            runs.AddRange(await r.Runs);
            r.Cancel.Dispose();
        }

        cancellationToken.ThrowIfCancellationRequested();
        var answered = runs.Where(r => r.Role == ExpertRole.Responder && r.Outcome == RunOutcome.Completed).ToList();
        if (answered.Count == 0)
        {
            throw new ExpertUnavailableException(
                $"No expert could answer: {string.Join("; ", runs.Select(r => $"{r.ExpertId} {r.Outcome.ToString().ToLowerInvariant()}{(r.Error is null ? "" : ": " + r.Error)}"))}");
        }

        var (answer, choice, combination) = await CombineAsync(answered, aggregator, single, runs, cancellationToken);
        var latency = _stragglers.Elapsed.TotalMilliseconds;
        var energy = runs.Sum(r => r.EnergyJoules);
        var budgetMet = latency <= (query.Options.LatencyBudgetMs ?? double.PositiveInfinity)
                        && energy <= (query.Options.EnergyBudgetJoules ?? double.PositiveInfinity);
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
            Notes = _state.Notes(plan.Feasible ? null : $"No plan met the {plan.BindingBudget?.ToWireName()} budget; ran the cheapest one instead."),
        };
    }

    /// <summary>
    /// One answer from the responders' (see <see cref="AnswerCombiner.Combine"/>); runs the
    /// aggregator when the combiner calls for it, and adds its runs (or its skip) to <paramref name="runs"/>.
    /// </summary>
    private async Task<(string Answer, string? Choice, AnswerCombination Combination)> CombineAsync(
        List<ExpertRun> answered, PlannedStep? aggregator, bool single, List<ExpertRun> runs, CancellationToken cancellationToken)
    {
        var plan = _state.Plan;
        var answers = answered.Select(r => new ExpertAnswer(r.Text, r.Choice, WeightOf(r), StepOrder(r))).ToList();
        var combined = AnswerCombiner.Combine(
            answers,
            multipleChoice: _state.Query.Choices.Count > 0,
            single,
            hasAggregator: aggregator is not null,
            aggregatorFits: aggregator is null || _stragglers.AggregatorFits(aggregator));
        var best = answered[combined.Answer];
        switch (combined.Aggregator)
        {
            case AggregatorAction.None:
                // A single responder's tokens already went out as the answer.
                await StreamAnswerAsync(best, alreadyStreamed: single && combined.Combination == AnswerCombination.Single);
                return (best.Text, combined.Choice, combined.Combination);

            case AggregatorAction.SkipAgreement or AggregatorAction.SkipSingleAnswer or AggregatorAction.SkipNoTime:
                runs.Add(_call.Skip(aggregator!, combined.Aggregator switch
                {
                    AggregatorAction.SkipAgreement => "the experts agree",
                    AggregatorAction.SkipSingleAnswer => "only one expert answered",
                    _ => string.Create(CultureInfo.InvariantCulture, $"no time left in the {plan.LatencyBudgetMs:0} ms budget"),
                }));
                await StreamAnswerAsync(best, alreadyStreamed: false);
                return (best.Text, combined.Choice, combined.Combination);
        }

        var aggregated = await _failover.RunAsync(aggregator!, AggregatorPrompt.Build(_state.Query, answered), isAnswer: true, cancellationToken, cancellationToken);
        runs.AddRange(aggregated);
        var final = aggregated[^1];
        var completed = final.Outcome == RunOutcome.Completed;
        combined = combined.AfterAggregator(completed, final.Choice);
        if (completed)
        {
            return (final.Text, combined.Choice, combined.Combination);
        }

        _state.AddNote($"The aggregator {aggregator!.ExpertId} did not answer ({final.Error}); combined the experts by vote instead.");
        await StreamAnswerAsync(best, alreadyStreamed: false);
        return (best.Text, combined.Choice, combined.Combination);
    }

    /// <summary>The plan's vote weight of the run's expert; 1 for a replacement the plan did not have.</summary>
    private double WeightOf(ExpertRun run)
    {
        foreach (var step in _state.Plan.Steps)
        {
            if (step.ExpertId == run.ExpertId)
            {
                return step.Weight;
            }
        }

        return 1;
    }

    private int StepOrder(ExpertRun run)
    {
        var steps = _state.Plan.Steps;
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].ExpertId == run.ExpertId && steps[i].Role == run.Role)
            {
                return i;
            }
        }

        return int.MaxValue;
    }

    private async Task StreamAnswerAsync(ExpertRun run, bool alreadyStreamed)
    {
        if (!alreadyStreamed)
        {
            await _state.Events.WriteAsync(new TokenProduced(run.Text, run.ExpertId, IsAnswer: true), CancellationToken.None);
        }
    }
}
