using MoeMesh.Monitoring;

namespace MoeMesh.Abstractions.Tests.Monitoring;

public sealed class PercentilesTests
{
    [Fact]
    public void An_empty_sample_has_no_percentile()
    {
        Assert.True(double.IsNaN(Percentiles.NearestRank([], 0.5)));
        Assert.True(double.IsNaN(Percentiles.NearestRank([], 0.99)));
    }

    [Fact]
    public void Nearest_rank_picks_the_smallest_sample_covering_the_quantile()
    {
        double[] samples = [40, 10, 30, 20, 50, 60, 70, 80, 90, 100];

        Assert.Equal(10, Percentiles.NearestRank(samples, 0));
        Assert.Equal(50, Percentiles.NearestRank(samples, 0.5));
        Assert.Equal(60, Percentiles.NearestRank(samples, 0.51));
        Assert.Equal(100, Percentiles.NearestRank(samples, 0.99));
        Assert.Equal(100, Percentiles.NearestRank(samples, 1));
        Assert.Equal(7, Percentiles.NearestRank([7], 0.5));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_quantile_outside_zero_to_one_is_refused(double quantile)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1.0, 2.0], quantile));
}
