namespace MoeMesh.Evaluation.Batching;

/// <summary>A query waiting in a batch window, with the experts recruited for it.</summary>
public sealed record QueuedQuery(string QueryId, IReadOnlyList<string> Experts);

/// <summary>One model load: the expert and every query of the window it serves.</summary>
/// <param name="ExpertId">The expert loaded.</param>
/// <param name="DeviceId">Where it runs, when a device map was given.</param>
/// <param name="QueryIds">The queries it answers while loaded, in arrival order.</param>
/// <param name="CompletedQueryIds">Queries that have all their answers once this batch ran.</param>
public sealed record ExpertBatch(string ExpertId, string? DeviceId, IReadOnlyList<string> QueryIds, IReadOnlyList<string> CompletedQueryIds);

/// <summary>A batch window's plan.</summary>
/// <param name="Batches">Batches in run order (batches on different devices may run in parallel).</param>
/// <param name="ModelLoads">Loads the plan needs: one per expert used in the window.</param>
/// <param name="NaiveModelLoads">Loads when each query is served on its own, in arrival order, reloading whenever the device's loaded model changes.</param>
public sealed record BatchSchedule(IReadOnlyList<ExpertBatch> Batches, int ModelLoads, int NaiveModelLoads);

/// <summary>
/// Groups the queries of a batch window by recruited expert so each model is loaded once per
/// window (Symbolic-MoE's batching): loading is the expensive step on edge boxes that cannot hold
/// every model at once. Batches run in the order that finishes queries soonest: next comes the
/// expert that completes the most queries, then the one serving the most, then by name.
/// Pure and deterministic.
/// </summary>
public static class BatchPlanner
{
    /// <summary>Plans one window; <paramref name="deviceOf"/> maps an expert to its device (null: one shared device).</summary>
    public static BatchSchedule Plan(IReadOnlyList<QueuedQuery> window, Func<string, string?>? deviceOf = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in window)
        {
            ArgumentNullException.ThrowIfNull(query);
            if (string.IsNullOrWhiteSpace(query.QueryId) || !seenIds.Add(query.QueryId))
            {
                throw new ArgumentException($"query ids must be non-empty and unique in a window; '{query.QueryId}' is not", nameof(window));
            }

            if (query.Experts.Count == 0)
            {
                throw new ArgumentException($"query '{query.QueryId}' has no recruited expert", nameof(window));
            }
        }

        // Duplicates in one query (an expert drawn twice) need a single run.
        var needs = window.Select(q => new HashSet<string>(q.Experts, StringComparer.Ordinal)).ToArray();
        var servedBy = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var q = 0; q < window.Count; q++)
        {
            foreach (var expert in window[q].Experts.Distinct(StringComparer.Ordinal))
            {
                if (!servedBy.TryGetValue(expert, out var list))
                {
                    list = [];
                    servedBy.Add(expert, list);
                }

                list.Add(q);
            }
        }

        var remaining = new SortedSet<string>(servedBy.Keys, StringComparer.Ordinal);
        var batches = new List<ExpertBatch>(remaining.Count);
        while (remaining.Count > 0)
        {
            string? next = null;
            var bestCompletes = -1;
            var bestServes = -1;
            foreach (var expert in remaining)
            {
                var serves = servedBy[expert].Count;
                var completes = servedBy[expert].Count(q => needs[q].Count == 1);
                if (completes > bestCompletes || (completes == bestCompletes && serves > bestServes))
                {
                    next = expert;
                    bestCompletes = completes;
                    bestServes = serves;
                }
            }

            remaining.Remove(next!);
            var completed = new List<string>();
            foreach (var q in servedBy[next!])
            {
                needs[q].Remove(next!);
                if (needs[q].Count == 0)
                {
                    completed.Add(window[q].QueryId);
                }
            }

            batches.Add(new ExpertBatch(next!, deviceOf?.Invoke(next!), servedBy[next!].Select(q => window[q].QueryId).ToArray(), completed));
        }

        return new BatchSchedule(batches, batches.Count, NaiveLoads(window, deviceOf));
    }

    private static int NaiveLoads(IReadOnlyList<QueuedQuery> window, Func<string, string?>? deviceOf)
    {
        var loaded = new Dictionary<string, string>(StringComparer.Ordinal);
        var loads = 0;
        foreach (var query in window)
        {
            foreach (var expert in query.Experts.Distinct(StringComparer.Ordinal))
            {
                var device = deviceOf?.Invoke(expert) ?? "";
                if (!loaded.TryGetValue(device, out var current) || !string.Equals(current, expert, StringComparison.Ordinal))
                {
                    loads++;
                    loaded[device] = expert;
                }
            }
        }

        return loads;
    }
}
