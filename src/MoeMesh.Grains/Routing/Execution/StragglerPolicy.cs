using System.Globalization;
using System.Runtime.CompilerServices;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>A responder in flight: its step, what cancels it alone, and its runs once done.</summary>
internal sealed record RunningStep(PlannedStep Step, CancellationTokenSource Cancel, Task<List<ExpertRun>> Runs);

/// <summary>
/// The plan's deadline for responders: the latency budget less the time the aggregator is predicted
/// to need, counted from the query's start on <see cref="TimeProvider"/>. Past it, once one responder
/// has answered, the others are cancelled and the query answers from what it has.
/// </summary>
internal sealed class StragglerPolicy(QueryPlan plan, long started, TimeProvider time)
{
    private readonly PlannedStep? _aggregator = plan.Steps.FirstOrDefault(s => s.Role == ExpertRole.Aggregator);

    /// <summary>Time since the query started.</summary>
    public TimeSpan Elapsed => time.GetElapsedTime(started);

    /// <summary>How long responders may run from now; null when the plan has no latency budget.</summary>
    public TimeSpan? Remaining => plan.LatencyBudgetMs is { } budget
        ? TimeSpan.FromMilliseconds(Math.Max(0, budget - (_aggregator?.PredictedLatencyMs ?? 0) - Elapsed.TotalMilliseconds))
        : null;

    /// <summary>
    /// False when running <paramref name="aggregator"/> now would break a latency budget the plan can
    /// meet (an infeasible plan runs its aggregator anyway: it was the cheapest plan).
    /// </summary>
    public bool AggregatorFits(PlannedStep aggregator)
        => plan.LatencyBudgetMs is not { } budget || !plan.Feasible || Elapsed.TotalMilliseconds + aggregator.PredictedLatencyMs <= budget;

    /// <summary>
    /// Waits for the responders; past the deadline, with at least one answer in, cancels the rest and
    /// returns the note that says so for each.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitAsync(IReadOnlyList<RunningStep> running, CancellationToken cancellationToken)
    {
        // A single responder (the common plan) is awaited as it is: no combined task to build.
        Task all = running.Count == 1 ? running[0].Runs : Task.WhenAll(running.Select(r => r.Runs));
        if (Remaining is not { } remaining || running.Count < 2)
        {
            await Quietly(all);
            return [];
        }

        var deadline = Task.Delay(remaining, time, cancellationToken);
        await Task.WhenAny(all, deadline);
        if (all.IsCompleted || cancellationToken.IsCancellationRequested)
        {
            return [];
        }

        // Past the deadline: answer from what has finished; with nothing finished, wait for the first.
        while (!running.Any(Answered))
        {
            if (all.IsCompleted)
            {
                return [];
            }

            await Task.WhenAny(running.Where(r => !r.Runs.IsCompleted).Select(r => r.Runs));
        }

        var notes = new List<string>();
        foreach (var straggler in running.Where(r => !r.Runs.IsCompleted))
        {
            notes.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"Cancelled {straggler.Step.ExpertId}: still running at {Elapsed.TotalMilliseconds:0} ms against a {plan.LatencyBudgetMs:0} ms budget (predicted {straggler.Step.PredictedLatencyMs:0} ms); answering from the others."));
            await straggler.Cancel.CancelAsync();
        }

        await Quietly(all);
        return notes;
    }

    /// <summary>Awaits <paramref name="task"/> without its exception (the runs report their own failures), on the caller's context.</summary>
    private static ConfiguredTaskAwaitable Quietly(Task task)
        => task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);

    private static bool Answered(RunningStep step)
        => step.Runs.IsCompletedSuccessfully && step.Runs.Result.Any(x => x.Outcome == RunOutcome.Completed);
}
