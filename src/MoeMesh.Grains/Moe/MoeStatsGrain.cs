using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>Keeps <see cref="IMoeStatsGrain"/>'s totals in memory (they restart with the activation).</summary>
internal sealed class MoeStatsGrain : Grain, IMoeStatsGrain
{
    private long[] _counts = [];
    private int _layers;
    private int _experts;
    private long _generations;
    private long _tokens;
    private long _hops;
    private long _bytes;
    private double _p50;
    private double _p99;
    private MoeDeviations _deviations = new();

    public Task RecordAsync(MoeGenerationResult result, int layerCount, int promptTokens)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (_counts.Length != result.RoutingCounts.Length)
        {
            _counts = new long[result.RoutingCounts.Length];
            (_layers, _experts) = (layerCount, result.ExpertCount);
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += result.RoutingCounts[i];
        }

        _generations++;
        _tokens += promptTokens + Math.Max(0, result.Tokens.Length - 1);
        _hops += result.Hops;
        _bytes += result.FrameBytes;
        (_p50, _p99) = (result.HopP50Us, result.HopP99Us);
        var d = result.Deviations;
        _deviations = _deviations with
        {
            SkippedExperts = _deviations.SkippedExperts + d.SkippedExperts,
            LowPrecisionExperts = _deviations.LowPrecisionExperts + d.LowPrecisionExperts,
            CacheHits = _deviations.CacheHits + d.CacheHits,
            CacheMisses = _deviations.CacheMisses + d.CacheMisses,
            Prefetched = _deviations.Prefetched + d.Prefetched,
        };
        return Task.CompletedTask;
    }

    public Task<MoeStatsSnapshot> GetAsync() => Task.FromResult(new MoeStatsSnapshot
    {
        ModelId = this.GetPrimaryKeyString(), LayerCount = _layers, ExpertCount = _experts, RoutingCounts = [.. _counts],
        Generations = _generations, Tokens = _tokens, Hops = _hops, FrameBytes = _bytes, LastHopP50Us = _p50, LastHopP99Us = _p99,
        Deviations = _deviations,
    });
}
