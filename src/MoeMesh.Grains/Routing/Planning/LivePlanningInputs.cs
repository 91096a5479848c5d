using MoeMesh.Experts;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// What planning derives from a list of live candidates alone: where each runs, the device number
/// each gets, the experts' order and, once fitted, the pool's knowledge and each candidate's index
/// in it. A cached candidate list serves every query of a catalog snapshot, so these are worked out
/// once per list rather than once per query; the planner keeps them as long as the list lives.
/// </summary>
internal sealed class LivePlanningInputs
{
    private readonly int _distinctModels;
    private Fitted? _fitted;

    public LivePlanningInputs(IReadOnlyList<LiveCandidate> live, bool trainingAvailable)
    {
        Live = live;
        Placements = [.. live.Select(c => c.Placement)];

        // Devices are numbered in silo-name order, as the planners' tie-breaks expect.
        var silos = live.Select(c => c.Silo.Silo).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Devices = [.. live.Select(c => silos.IndexOf(c.Silo.Silo))];
        Recorded = trainingAvailable && live.All(c => !string.IsNullOrEmpty(c.Manifest.RecordedModel));
        if (Recorded)
        {
            RecordedModels = [.. live.Select(c => c.Manifest.RecordedModel!)];
            _distinctModels = RecordedModels.Distinct(StringComparer.Ordinal).Count();
            return;
        }

        // Without recorded history experts are ordered by the manifests' ids.
        Manifests = [.. live.Select(c => c.Manifest).DistinctBy(m => m.Id).OrderBy(m => m.Id, StringComparer.Ordinal)];
        ExpertIds = [.. Manifests.Select(m => m.Id)];
        ManifestIndex = [.. live.Select(c => Manifests.FindIndex(m => m.Id == c.Manifest.Id))];
    }

    public IReadOnlyList<LiveCandidate> Live { get; }

    /// <summary>Where each live candidate runs, in candidate order.</summary>
    public IReadOnlyList<MeshPlacement> Placements { get; }

    /// <summary>Each candidate's device number.</summary>
    public int[] Devices { get; }

    /// <summary>True when training data is configured and every candidate has recorded history.</summary>
    public bool Recorded { get; }

    /// <summary>The candidates' recorded models, in candidate order (recorded candidates only).</summary>
    public IReadOnlyList<string> RecordedModels { get; } = [];

    /// <summary>The distinct manifests by id (candidates without recorded history only).</summary>
    public List<ExpertManifest>? Manifests { get; }

    /// <summary>The ids of <see cref="Manifests"/>.</summary>
    public IReadOnlyList<string> ExpertIds { get; } = [];

    /// <summary>Each candidate's index in <see cref="Manifests"/>.</summary>
    public int[] ManifestIndex { get; } = [];

    /// <summary>The pool's knowledge when it was fitted for exactly these candidates' experts.</summary>
    public PoolKnowledge? FittedPool => Volatile.Read(ref _fitted)?.Pool;

    /// <summary>
    /// Keeps <paramref name="pool"/> when it was fitted for exactly these experts: it is then what every
    /// later query of the list gets. A larger pool standing in while that fit runs is not kept.
    /// </summary>
    public void Remember(PoolKnowledge pool)
    {
        if (Volatile.Read(ref _fitted) is null && pool.Pool.Count == _distinctModels)
        {
            Volatile.Write(ref _fitted, new Fitted(pool, [.. RecordedModels.Select(pool.IndexOf)]));
        }
    }

    /// <summary>The candidate's expert index in <paramref name="pool"/>.</summary>
    public int PoolIndex(PoolKnowledge pool, int candidate)
        => Volatile.Read(ref _fitted) is { } fitted && ReferenceEquals(fitted.Pool, pool) ? fitted.Index[candidate] : pool.IndexOf(RecordedModels[candidate]);

    private sealed record Fitted(PoolKnowledge Pool, int[] Index);
}
