namespace MoeMesh.Routing.Gating;

/// <summary>One expert's answer in a vote.</summary>
/// <param name="Answer">The discrete answer (a choice letter), or null when the expert gave none.</param>
/// <param name="Weight">How much the answer counts (non-negative).</param>
public readonly record struct Ballot(string? Answer, double Weight);

/// <summary>The result of a vote.</summary>
/// <param name="Answer">The winning answer, or null when no ballot had one.</param>
/// <param name="Support">The winner's share of the weight cast (0 to 1).</param>
/// <param name="Unanimous">True when every ballot with an answer agreed (an aggregator can be skipped).</param>
public readonly record struct VoteOutcome(string? Answer, double Support, bool Unanimous);

/// <summary>
/// Combines discrete answers by weighted vote. Weights come from the gate: for independent voters
/// that are right with probability p among L options, weighting each by log(p(L−1)/(1−p)) is the
/// optimal rule, so a confident expert can outvote two unsure ones.
/// </summary>
public static class WeightedVote
{
    /// <summary>The smallest weight a ballot gets, so that a vote of weak experts still counts heads.</summary>
    public const double MinWeight = 1e-3;

    /// <summary>The vote weight of an expert right with probability <paramref name="probability"/> among <paramref name="options"/> choices.</summary>
    public static double WeightFromProbability(double probability, int options = 10)
    {
        if (!double.IsFinite(probability))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "a probability must be a finite number");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options, 2);
        var p = Math.Clamp(probability, 1e-6, 1 - 1e-6);
        return Math.Max(MinWeight, Math.Log(p * (options - 1) / (1 - p)));
    }

    /// <summary>
    /// The answer with the most weight. Ties go to the answer holding the single heaviest ballot,
    /// then to the earliest ballot, so the outcome never depends on dictionary order.
    /// </summary>
    public static VoteOutcome Combine(ReadOnlySpan<Ballot> ballots)
    {
        Span<int> firstIndex = stackalloc int[ballots.Length];
        Span<double> totals = stackalloc double[ballots.Length];
        Span<double> heaviest = stackalloc double[ballots.Length];
        var distinct = 0;
        var cast = 0.0;
        for (var i = 0; i < ballots.Length; i++)
        {
            var ballot = ballots[i];
            if (!double.IsFinite(ballot.Weight) || ballot.Weight < 0)
            {
                throw new ArgumentException($"ballot {i} has weight {ballot.Weight}; weights must be finite and not negative", nameof(ballots));
            }

            if (ballot.Answer is null)
            {
                continue;
            }

            cast += ballot.Weight;
            var slot = -1;
            for (var d = 0; d < distinct; d++)
            {
                if (string.Equals(ballots[firstIndex[d]].Answer, ballot.Answer, StringComparison.Ordinal))
                {
                    slot = d;
                    break;
                }
            }

            if (slot < 0)
            {
                slot = distinct++;
                firstIndex[slot] = i;
                totals[slot] = 0;
                heaviest[slot] = 0;
            }

            totals[slot] += ballot.Weight;
            heaviest[slot] = Math.Max(heaviest[slot], ballot.Weight);
        }

        if (distinct == 0)
        {
            return new VoteOutcome(null, 0, false);
        }

        var best = 0;
        for (var d = 1; d < distinct; d++)
        {
            if (totals[d] > totals[best] || (totals[d] == totals[best] && heaviest[d] > heaviest[best]))
            {
                best = d;
            }
        }

        var support = cast > 0 ? totals[best] / cast : 1.0 / distinct;
        return new VoteOutcome(ballots[firstIndex[best]].Answer, support, distinct == 1);
    }
}
