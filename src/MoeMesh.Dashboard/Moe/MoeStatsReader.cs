using MoeMesh.Catalog;
using MoeMesh.Dashboard.Live;
using MoeMesh.Experts;
using MoeMesh.TokenPath;

namespace MoeMesh.Dashboard.Moe;

/// <summary>
/// Reads the token-path view of the catalog's Mixture-of-Experts models: each model's
/// <see cref="IMoeStatsGrain"/> totals and the shards every active silo holds.
/// </summary>
internal sealed class MoeStatsReader(IGrainFactory grains, MeshReader mesh, TimeProvider time)
{
    /// <summary>How long a silo may take to list its shards before the page goes on without them.</summary>
    private static readonly TimeSpan SiloTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Every MoE model in the catalog, or only <paramref name="modelId"/> (an empty list when it is not one).</summary>
    public async Task<MoeDashboardView> ReadAsync(string? modelId, CancellationToken cancellationToken)
    {
        var catalog = await mesh.GetCatalogAsync(cancellationToken: cancellationToken);
        var models = catalog.Experts
            .Where(e => string.Equals(e.Engine, ExpertEngines.Moe, StringComparison.Ordinal) && (modelId is null || string.Equals(e.Id, modelId, StringComparison.Ordinal)))
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .ToList();
        if (models.Count == 0)
        {
            return new MoeDashboardView(time.GetUtcNow(), [], []);
        }

        var warnings = new List<string>();
        var shards = await LoadedShardsAsync(catalog, warnings, cancellationToken);
        var stats = await Task.WhenAll(models.Select(m => grains.GetGrain<IMoeStatsGrain>(m.Id).GetAsync().WaitAsync(cancellationToken)));
        var views = models.Select((m, i) => MoeViewBuilder.Build(m, stats[i], shards)).ToList();
        return new MoeDashboardView(time.GetUtcNow(), views, warnings);
    }

    private async Task<IReadOnlyList<(SiloInfo Silo, LoadedShard Shard)>> LoadedShardsAsync(
        CatalogSnapshot catalog, List<string> warnings, CancellationToken cancellationToken)
    {
        var silos = catalog.Silos.Where(s => s.State == SiloState.Active).ToList();
        var answers = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                var loaded = await grains.GetGrain<IActivationHopGrain>(silo.Silo).GetLoadedShardsAsync().WaitAsync(SiloTimeout, cancellationToken);
                return (Shards: loaded.Select(s => (silo, s)).ToList(), Warning: (string?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One silo that does not answer leaves its shards out; the rest of the page still shows.
                return ([], $"{silo.Device.Name} ({silo.Silo}) did not list its shards: {ex.Message}");
            }
        }));
        warnings.AddRange(answers.Select(a => a.Warning).OfType<string>());
        return [.. answers.SelectMany(a => a.Shards)];
    }
}
