namespace MoeMesh.Routing.Selection;

/// <summary>
/// The chance that a weighted vote of independent experts picks the right answer. Each expert is
/// right with its own probability; wrong experts either all pick one shared distractor (with
/// probability <c>coincidence</c>: models share misconceptions) or all pick different wrong answers.
/// Unlike a sum of qualities, this knows that a second voter never overturns a heavier first one,
/// and that two weak voters agreeing on a wrong answer can outvote a strong right one.
/// </summary>
public static class VoteAccuracy
{
    /// <summary>The most voters evaluated exactly (all 2^n right/wrong patterns are enumerated).</summary>
    public const int MaxVoters = 8;

    /// <summary>Expected accuracy of the vote; ties count half.</summary>
    public static double Expected(ReadOnlySpan<double> probabilities, ReadOnlySpan<double> weights, double coincidence)
    {
        var n = probabilities.Length;
        if (n != weights.Length)
        {
            throw new ArgumentException("one weight per probability is needed", nameof(weights));
        }

        if (n > MaxVoters)
        {
            throw new ArgumentException($"at most {MaxVoters} voters are evaluated exactly, got {n}", nameof(probabilities));
        }

        if (n == 0)
        {
            return 0;
        }

        var total = 0.0;
        for (var right = 1; right < 1 << n; right++)
        {
            var chance = 1.0;
            var rightWeight = 0.0;
            var wrongWeight = 0.0;
            var heaviestWrong = 0.0;
            var anyWrong = false;
            for (var i = 0; i < n; i++)
            {
                if ((right & (1 << i)) != 0)
                {
                    chance *= probabilities[i];
                    rightWeight += weights[i];
                }
                else
                {
                    chance *= 1 - probabilities[i];
                    wrongWeight += weights[i];
                    heaviestWrong = Math.Max(heaviestWrong, weights[i]);
                    anyWrong = true;
                }
            }

            if (chance == 0)
            {
                continue;
            }

            var scattered = anyWrong ? Win(rightWeight, heaviestWrong) : 1;
            var shared = anyWrong ? Win(rightWeight, wrongWeight) : 1;
            total += chance * (((1 - coincidence) * scattered) + (coincidence * shared));
        }

        return total;
    }

    private static double Win(double right, double wrong) => right > wrong ? 1 : right == wrong ? 0.5 : 0;
}
