using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Routing.Tests.Selection;

public sealed class VoteAccuracyTests
{
    [Fact]
    public void One_voter_is_as_good_as_its_probability_and_a_pair_as_its_heavier_member()
    {
        Assert.Equal(0.42, VoteAccuracy.Expected([0.42], [1], 0.3), 12);
        Assert.Equal(0.7, VoteAccuracy.Expected([0.7, 0.4], [Weight(0.7), Weight(0.4)], 0.3), 12);
        Assert.Equal(0, VoteAccuracy.Expected([], [], 0.3));
    }

    [Fact]
    public void Three_equal_voters_follow_the_majority_formula_when_wrong_answers_coincide()
    {
        // Equal weights, wrong answers always shared: right when at least two are right.
        const double p = 0.6;
        var majority = (p * p * p) + (3 * p * p * (1 - p));
        Assert.Equal(majority, VoteAccuracy.Expected([p, p, p], [1, 1, 1], coincidence: 1), 12);

        // Wrong answers never shared: one right voter ties each lone wrong one (half), two or three right win.
        var scattered = majority + (3 * p * (1 - p) * (1 - p) * 0.5);
        Assert.Equal(scattered, VoteAccuracy.Expected([p, p, p], [1, 1, 1], coincidence: 0), 12);
    }

    [Fact]
    public void A_vote_is_never_better_than_the_chance_that_someone_is_right()
    {
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var n = 1 + random.Next(VoteAccuracy.MaxVoters);
            var p = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
            var w = p.Select(x => Weight(x)).ToArray();
            var any = 1 - p.Aggregate(1.0, (acc, x) => acc * (1 - x));
            Assert.InRange(VoteAccuracy.Expected(p, w, random.NextDouble()), 0, any + 1e-12);
        }

        Assert.Throws<ArgumentException>(() => VoteAccuracy.Expected(new double[9], new double[9], 0.3));
    }

    private static double Weight(double p) => WeightedVote.WeightFromProbability(p);
}
