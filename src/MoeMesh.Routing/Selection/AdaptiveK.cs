using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;

namespace MoeMesh.Routing.Selection;

/// <summary>
/// Adaptive compute: how many experts a query gets from the gate's confidence. When the gate's best
/// expert is at least <paramref name="OneExpertAbove"/> likely right one expert answers; at least
/// <paramref name="TwoExpertsAbove"/>, two; otherwise up to the budget's k. Harder questions get more experts.
/// </summary>
/// <param name="OneExpertAbove">Confidence from which one expert suffices.</param>
/// <param name="TwoExpertsAbove">Confidence from which two experts suffice.</param>
/// <param name="TrainAccuracy">Accuracy of the rule on the training split (held-out gate probabilities).</param>
/// <param name="TrainMeanExperts">Mean experts per question the rule asked for on the training split.</param>
public sealed record AdaptiveK(double OneExpertAbove, double TwoExpertsAbove, double TrainAccuracy, double TrainMeanExperts)
{
    /// <summary>Accuracy one more expert per question must buy, on the training split, to be worth its cost.</summary>
    public const double AccuracyPerExpert = 0.01;

    /// <summary>The k for a query whose best expert is <paramref name="confidence"/> likely right, at most <paramref name="maxExperts"/>.</summary>
    public int ExpertsFor(double confidence, int maxExperts)
        => Math.Max(1, Math.Min(maxExperts, confidence >= OneExpertAbove ? 1 : confidence >= TwoExpertsAbove ? 2 : maxExperts));

    /// <summary>
    /// Chooses the thresholds on the training split from held-out gate probabilities (one row per
    /// training question): the best accuracy net of <see cref="AccuracyPerExpert"/> per expert, the
    /// answers combined by the same gate-weighted vote the router uses.
    /// </summary>
    public static AdaptiveK Choose(TrainingSet train, IReadOnlyList<string> experts, double[][] heldOut, int maxExperts)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(heldOut);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExperts, 1);
        if (heldOut.Length != train.Questions.Count || train.Questions.Count == 0)
        {
            throw new ArgumentException($"need one row of held-out probabilities per training question ({train.Questions.Count}), got {heldOut.Length}", nameof(heldOut));
        }

        var slots = experts.Select(train.ModelIndex).ToArray();
        var n = heldOut.Length;
        var confidence = new double[n];
        var right = new bool[n, 3];
        for (var i = 0; i < n; i++)
        {
            var question = train.Questions[i];
            var order = Enumerable.Range(0, experts.Count)
                .Where(e => question.TryGetAnswer(slots[e], out _))
                .OrderByDescending(e => heldOut[i][e])
                .ToArray();
            if (order.Length == 0)
            {
                continue;
            }

            confidence[i] = heldOut[i][order[0]];
            int[] ks = [1, Math.Min(2, maxExperts), maxExperts];
            for (var c = 0; c < ks.Length; c++)
            {
                var ballots = order.Take(ks[c])
                    .Select(e => new Ballot(question.PredictionOf(slots[e]), WeightedVote.WeightFromProbability(Math.Clamp(heldOut[i][e], 0, 1), Math.Max(2, question.Options.Count))))
                    .ToArray();
                right[i, c] = string.Equals(WeightedVote.Combine(ballots).Answer, question.Answer, StringComparison.Ordinal);
            }
        }

        var thresholds = confidence.Order().Where((_, i) => i % Math.Max(1, n / 40) == 0).Append(double.PositiveInfinity).Distinct().ToArray();
        var best = (Score: double.NegativeInfinity, One: double.PositiveInfinity, Two: double.PositiveInfinity, Accuracy: 0.0, Experts: 0.0);
        foreach (var one in thresholds)
        {
            foreach (var two in thresholds.Where(t => t <= one))
            {
                var hits = 0;
                var used = 0.0;
                for (var i = 0; i < n; i++)
                {
                    var c = confidence[i] >= one ? 0 : confidence[i] >= two ? 1 : 2;
                    hits += right[i, c] ? 1 : 0;
                    used += c == 0 ? 1 : c == 1 ? Math.Min(2, maxExperts) : maxExperts;
                }

                var accuracy = hits / (double)n;
                var meanExperts = used / n;
                var score = accuracy - (AccuracyPerExpert * meanExperts);
                if (score > best.Score + 1e-12)
                {
                    best = (score, one, two, accuracy, meanExperts);
                }
            }
        }

        return new AdaptiveK(best.One, best.Two, best.Accuracy, best.Experts);
    }
}
