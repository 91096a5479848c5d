namespace MoeMesh.Monitoring;

/// <summary>Nearest-rank percentiles, the one definition every report of the mesh uses.</summary>
public static class Percentiles
{
    /// <summary>
    /// The nearest-rank <paramref name="quantile"/> (0–1) of <paramref name="samples"/>: the smallest
    /// sample with at least that share of the samples at or below it. An empty sample has no
    /// percentile: the result is NaN, which callers that must show a number replace explicitly.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantile"/> is not between 0 and 1.</exception>
    public static double NearestRank(IReadOnlyCollection<double> samples, double quantile)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (!(quantile is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "a quantile is between 0 and 1");
        }

        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
