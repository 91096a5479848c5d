using MoeMesh.Inference.Moe;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// Budgeted runs with a local expert cache: after each layer, loads in the background the
/// low-precision copies of the experts this token chose there, which the next token is likely to
/// choose again, so a slow shard's fallback finds them resident.
/// </summary>
internal sealed class MoePrefetcher(MoeLocalExpertCache? cache, MoeRunLedger ledger)
{
    private Task _pending = Task.CompletedTask;

    public void Observe(MoeLayerRouting routing)
    {
        if (cache is null)
        {
            return;
        }

        var experts = routing.ExpertIds.Where(e => e >= 0).Distinct().ToArray();
        var layer = routing.Layer;
        var previous = _pending;
        _pending = Task.Run(async () =>
        {
            await previous;
            var loaded = cache.Prefetch(layer, experts);
            lock (ledger)
            {
                ledger.Prefetched += loaded;
            }
        });
    }

    public Task DrainAsync() => _pending;
}
