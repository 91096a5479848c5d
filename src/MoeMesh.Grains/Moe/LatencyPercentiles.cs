namespace MoeMesh.Grains.Moe;

/// <summary>Nearest-rank percentiles of latency samples.</summary>
public static class LatencyPercentiles
{
    /// <summary>The <paramref name="quantile"/> (0–1) of <paramref name="samples"/>; 0 when there are none.</summary>
    public static double Of(IReadOnlyCollection<double> samples, double quantile)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return 0;
        }

        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
