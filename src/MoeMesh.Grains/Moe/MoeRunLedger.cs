using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>What one generation spent on the token path: hops, bytes, routing, deviations, recoveries.</summary>
internal sealed class MoeRunLedger(int layerCount, int expertCount)
{
    private readonly List<double> _hopMicroseconds = [];
    private readonly object _gate = new();

    public long[] RoutingCounts { get; } = new long[layerCount * expertCount];

    public List<ShardRecovery> Recoveries { get; } = [];

    public long FrameBytes { get; private set; }

    public long Skipped { get; set; }

    public long LowPrecision { get; set; }

    public long CacheHits { get; set; }

    public long CacheMisses { get; set; }

    public long Prefetched { get; set; }

    public int ExpertCount => expertCount;

    public long Hops
    {
        get
        {
            lock (_gate)
            {
                return _hopMicroseconds.Count;
            }
        }
    }

    public void CountRouting(int layer, int expert) => RoutingCounts[(layer * expertCount) + expert]++;

    public void RecordHop(double microseconds, long bytes)
    {
        lock (_gate)
        {
            _hopMicroseconds.Add(microseconds);
            FrameBytes += bytes;
        }
    }

    public void RecordRecovery(ShardRecovery recovery)
    {
        lock (_gate)
        {
            Recoveries.Add(recovery);
        }
    }

    public void RecordDeviation(long lowPrecision, long hits, long misses)
    {
        lock (_gate)
        {
            LowPrecision += lowPrecision;
            CacheHits += hits;
            CacheMisses += misses;
        }
    }

    public (double P50, double P99) HopPercentiles()
    {
        lock (_gate)
        {
            return (LatencyPercentiles.Of(_hopMicroseconds, 0.50), LatencyPercentiles.Of(_hopMicroseconds, 0.99));
        }
    }

    public MoeDeviations Deviations() => new()
    {
        SkippedExperts = Skipped, LowPrecisionExperts = LowPrecision, CacheHits = CacheHits, CacheMisses = CacheMisses, Prefetched = Prefetched,
    };

}
