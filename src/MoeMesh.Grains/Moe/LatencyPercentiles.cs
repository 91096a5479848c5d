namespace MoeMesh.Grains.Moe;

/// <summary>Nearest-rank percentiles of latency samples.</summary>
public static class LatencyPercentiles
{
    /// <summary>The <paramref name="quantile"/> (0–1) of <paramref name="samples"/>; 0 when there are none.</summary>
    public static double Of(IReadOnlyCollection<double> samples, double quantile)
    {
        ArgumentNullException.ThrowIfNull(samples);

        // Hop reports go out as JSON, which has no NaN: no samples reads as 0 here.
        return samples.Count == 0 ? 0 : MoeMesh.Monitoring.Percentiles.NearestRank(samples, quantile);
    }
}
