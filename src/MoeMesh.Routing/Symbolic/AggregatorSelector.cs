using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Symbolic;

/// <summary>How well one candidate aggregator merged contested answers on the training split.</summary>
/// <param name="Expert">The candidate's name.</param>
/// <param name="Trials">Contested training questions it was tried on.</param>
/// <param name="Right">How many of them its own answer was the right one.</param>
public sealed record AggregatorScore(string Expert, int Trials, int Right)
{
    /// <summary>Share of trials it got right.</summary>
    public double Rate => Trials == 0 ? 0 : Right / (double)Trials;
}

/// <summary>The chosen aggregator and how every candidate did.</summary>
public sealed record AggregatorChoice(string Expert, IReadOnlyList<AggregatorScore> Scores);

/// <summary>
/// Chooses the aggregator on the training split as Symbolic-MoE does: the model best at merging one
/// right and two wrong reasoning traces. Recordings hold answers, not traces, so a trial is a
/// training question where exactly one of the recruited experts was right, and a candidate scores
/// when its own answer picks that one out. Ties go to the higher overall accuracy, then the name.
/// </summary>
public static class AggregatorSelector
{
    /// <summary>
    /// Scores each of <paramref name="candidates"/> on the training questions where
    /// <paramref name="recruit"/>'s experts (model names) were split one right, the rest wrong.
    /// </summary>
    public static AggregatorChoice Select(TrainingSet train, IReadOnlyList<string> candidates, Func<RecordedQuestion, IReadOnlyList<string>> recruit)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(recruit);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("at least one candidate aggregator is needed", nameof(candidates));
        }

        var slots = candidates.Select(train.ModelIndex).ToArray();
        var trials = new int[candidates.Count];
        var right = new int[candidates.Count];
        var overall = new int[candidates.Count];
        foreach (var question in train.Questions)
        {
            for (var c = 0; c < slots.Length; c++)
            {
                overall[c] += question.IsCorrect(slots[c]) == true ? 1 : 0;
            }

            var recruited = recruit(question);
            if (recruited.Count < 2)
            {
                continue;
            }

            var rightCount = 0;
            foreach (var name in recruited)
            {
                rightCount += question.IsCorrect(train.ModelIndex(name)) == true ? 1 : 0;
            }

            if (rightCount != 1)
            {
                continue;
            }

            for (var c = 0; c < slots.Length; c++)
            {
                if (question.IsCorrect(slots[c]) is not { } correct)
                {
                    continue;
                }

                trials[c]++;
                right[c] += correct ? 1 : 0;
            }
        }

        var scores = candidates.Select((name, c) => new AggregatorScore(name, trials[c], right[c])).ToArray();
        var best = Enumerable.Range(0, candidates.Count)
            .OrderByDescending(c => scores[c].Rate)
            .ThenByDescending(c => overall[c])
            .ThenBy(c => candidates[c], StringComparer.Ordinal)
            .First();
        return new AggregatorChoice(candidates[best], scores.OrderByDescending(s => s.Rate).ThenBy(s => s.Expert, StringComparer.Ordinal).ToArray());
    }

    /// <summary>
    /// Chooses the aggregator whose final answers would have been right most often on the training
    /// split, combining the recruits as the router does: their weighted vote when they agree (the
    /// aggregator is skipped), else the aggregator sides with the recruited answer it gives itself, or
    /// with the vote when it gives none of them. <see cref="AggregatorScore.Trials"/> counts the
    /// questions where the aggregator was asked; <see cref="AggregatorScore.Right"/> the final answers right there.
    /// </summary>
    public static AggregatorChoice SelectBySimulation(
        TrainingSet train, IReadOnlyList<string> candidates, Func<RecordedQuestion, IReadOnlyList<(string Expert, double Weight)>> recruit)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(recruit);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("at least one candidate aggregator is needed", nameof(candidates));
        }

        var slots = candidates.Select(train.ModelIndex).ToArray();
        var trials = new int[candidates.Count];
        var right = new int[candidates.Count];
        foreach (var question in train.Questions)
        {
            var recruited = recruit(question);
            if (recruited.Count < 2)
            {
                continue;
            }

            var ballots = recruited.Select(r => new Gating.Ballot(question.PredictionOf(train.ModelIndex(r.Expert)), r.Weight)).ToArray();
            var vote = Gating.WeightedVote.Combine(ballots);
            if (vote.Unanimous)
            {
                continue;
            }

            for (var c = 0; c < slots.Length; c++)
            {
                var own = question.PredictionOf(slots[c]);
                var final = own is not null && ballots.Any(b => string.Equals(b.Answer, own, StringComparison.Ordinal)) ? own : vote.Answer;
                trials[c]++;
                right[c] += string.Equals(final, question.Answer, StringComparison.Ordinal) ? 1 : 0;
            }
        }

        var scores = candidates.Select((name, c) => new AggregatorScore(name, trials[c], right[c])).ToArray();
        var best = Enumerable.Range(0, candidates.Count)
            .OrderByDescending(c => right[c])
            .ThenBy(c => candidates[c], StringComparer.Ordinal)
            .First();
        return new AggregatorChoice(candidates[best], scores.OrderByDescending(s => s.Rate).ThenBy(s => s.Expert, StringComparer.Ordinal).ToArray());
    }
}
