using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Tests.CostModel;

public sealed class HostContentionTests
{
    /// <summary>What a host runs an engine at: <paramref name="pace"/> times slower alone, each other busy engine adding <paramref name="slowdown"/>.</summary>
    private static double Truth(double pace, double slowdown, int others) => pace * (1 + (slowdown * others));

    [Fact]
    public void A_host_not_measured_yet_costs_other_engines_by_the_calibration_slope()
    {
        var host = new HostContention(0.25);

        Assert.Equal(1, host.Pace);
        Assert.Equal(1.5, host.Factor(2), 9);
        Assert.Equal(1, host.Factor(-3), 9);
    }

    [Fact]
    public void A_host_of_known_pace_and_contention_is_learned_within_a_dozen_runs()
    {
        var host = new HostContention(0.5);

        for (var i = 0; i < 12; i++)
        {
            host.Observe(i % 4, Truth(1.5, 0.4, i % 4));
        }

        Assert.InRange(host.Pace, 1.45, 1.55);
        Assert.InRange(host.Slowdown, 0.37, 0.43);
        Assert.InRange(host.Factor(3), Truth(1.5, 0.4, 3) * 0.97, Truth(1.5, 0.4, 3) * 1.03);
    }

    [Fact]
    public void Runs_that_all_met_the_same_load_fit_that_load_and_keep_a_slope()
    {
        var host = new HostContention(0.5);

        for (var i = 0; i < 20; i++)
        {
            host.Observe(2, 3);
        }

        Assert.InRange(host.Factor(2), 2.94, 3.06);
        Assert.InRange(host.Slowdown, 0.1, 1);
    }

    [Fact]
    public void After_runs_that_all_met_the_same_load_the_first_run_alone_is_predicted_at_the_solo_pace()
    {
        var host = new HostContention(0.5);
        for (var i = 0; i < 4; i++)
        {
            host.Observe(0, Truth(1.1, 0.8, 0));
        }

        // A warm-up at one level of load: every run meets about three busy sequences elsewhere on
        // the host, and takes a few percent more or less than the line says (the noise of the host).
        for (var i = 0; i < 20; i++)
        {
            var others = 3 + (0.2 * ((i % 3) - 1));
            host.Observe(others, Truth(1.1, 0.8, 3) * (1 + (0.05 * (((i * 7) % 5) - 2) / 2)));
        }

        Assert.InRange(host.Factor(3), Truth(1.1, 0.8, 3) * 0.95, Truth(1.1, 0.8, 3) * 1.05);
        Assert.InRange(host.Factor(0), 1.1 * 0.9, 1.1 * 1.1);
    }

    [Fact]
    public void A_host_never_seen_alone_keeps_the_calibration_pace_under_one_level_of_load()
    {
        var host = new HostContention(0.25);

        for (var i = 0; i < 20; i++)
        {
            host.Observe(5, Truth(1, 0.6, 5));
        }

        Assert.InRange(host.Factor(5), Truth(1, 0.6, 5) * 0.97, Truth(1, 0.6, 5) * 1.03);
        Assert.InRange(host.Factor(0), 0.9, 1.15);
    }

    [Fact]
    public void Outside_work_that_slows_the_host_is_followed_within_a_few_runs()
    {
        var host = new HostContention(0.3);
        for (var i = 0; i < 12; i++)
        {
            host.Observe(i % 3, Truth(1, 0.3, i % 3));
        }

        // Another program takes half the host: every engine now runs at half speed.
        var errors = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            errors.Add(Math.Abs(host.Factor(1) - Truth(2, 0.3, 1)) / Truth(2, 0.3, 1));
            host.Observe(i % 3, Truth(2, 0.3, i % 3));
        }

        Assert.True(errors[0] > 0.4, $"the change should start far off, was {errors[0]:P0}");
        Assert.True(errors[^1] < 0.15, $"after seven runs the error should be small, was {errors[^1]:P0}");
    }

    [Fact]
    public void Busier_runs_that_went_faster_teach_no_negative_contention_and_no_extra_pace()
    {
        var host = new HostContention(0.5);

        for (var i = 0; i < 12; i++)
        {
            host.Observe(i % 2 == 0 ? 0 : 3, i % 2 == 0 ? 1 : 0.8);
        }

        Assert.Equal(0, host.Slowdown);

        // A run alone is predicted as the runs alone went; the busy ones, faster, add no contention.
        Assert.InRange(host.Factor(0), 0.97, 1.03);
        Assert.InRange(host.Factor(3), 0.8, 0.95);
    }

    [Fact]
    public void A_spell_of_very_slow_busy_runs_does_not_predict_past_what_sharing_the_cores_allows()
    {
        var host = new HostContention(0.5);
        for (var i = 0; i < 6; i++)
        {
            host.Observe(0, 1);
        }

        for (var i = 0; i < 8; i++)
        {
            host.Observe(i % 2 == 0 ? 1 : 2, i % 2 == 0 ? 6 : 20);
        }

        // Solo pace 1 and at most 1.5 of it per busy engine elsewhere: 5.5 at three.
        Assert.InRange(host.Factor(3), 1, 5.5);
        Assert.InRange(host.Factor(0), 0.9, 1.1);
    }

    [Fact]
    public void A_run_alone_after_a_spell_of_load_is_predicted_from_the_runs_alone_not_from_the_spell()
    {
        var host = new HostContention(0.5);
        for (var i = 0; i < 6; i++)
        {
            host.Observe(0, 1.1);
        }

        // A spell where the runs were far slower than their few others explain (the host's line moves its pace up).
        for (var i = 0; i < 8; i++)
        {
            host.Observe(i % 2 == 0 ? 1 : 2, 4.5);
        }

        Assert.True(host.Pace > 2, $"the line's pace after the spell is {host.Pace}");
        Assert.InRange(host.Factor(0), 1.0, 1.2);
        Assert.InRange(host.Factor(0.5), host.Factor(0), host.Factor(1));
    }

    [Theory]
    [InlineData(double.NaN, 2)]
    [InlineData(1, double.NaN)]
    [InlineData(1, -1)]
    [InlineData(double.PositiveInfinity, 2)]
    public void A_run_with_figures_that_mean_nothing_teaches_nothing(double others, double ratio)
    {
        var host = new HostContention(0.5);

        host.Observe(others, ratio);

        Assert.Equal(1, host.Pace);
        Assert.Equal(0.5, host.Slowdown);
        Assert.Equal(0, host.Observations);
    }
}
