namespace MoeMesh.Routing.Gating;

/// <summary>One responder's answer, as the combiner sees it.</summary>
/// <param name="Text">The answer's text.</param>
/// <param name="Choice">The choice letter found in it, for multiple-choice questions; null when none.</param>
/// <param name="Weight">Its weight in the vote (the gate's, from the plan).</param>
/// <param name="Order">Its step's position in the plan; ballots are cast in this order (ties go to the earliest).</param>
public readonly record struct ExpertAnswer(string Text, string? Choice, double Weight, int Order = 0);

/// <summary>What happens to a planned aggregator.</summary>
public enum AggregatorAction
{
    /// <summary>The plan has no aggregator.</summary>
    None = 0,

    /// <summary>Run it on the responders' answers.</summary>
    Run = 1,

    /// <summary>Skipped: the responders agree.</summary>
    SkipAgreement = 2,

    /// <summary>Skipped: only one responder answered.</summary>
    SkipSingleAnswer = 3,

    /// <summary>Skipped: the latency budget has no room left for it.</summary>
    SkipNoTime = 4,
}

/// <summary>How the responders' answers become one.</summary>
/// <param name="Answer">Index (into the answers given) of the answer that stands for the result: the vote's winner, heaviest first.</param>
/// <param name="Choice">The chosen letter, for multiple-choice questions.</param>
/// <param name="Combination">How the answer was formed.</param>
/// <param name="Aggregator">What to do with the plan's aggregator.</param>
public sealed record CombinedAnswer(int Answer, string? Choice, AnswerCombination Combination, AggregatorAction Aggregator)
{
    /// <summary>
    /// The result once the aggregator ran: its answer (and its letter, else the vote's) when it
    /// answered; otherwise the vote's answer.
    /// </summary>
    public CombinedAnswer AfterAggregator(bool answered, string? aggregatorChoice)
        => answered
            ? this with { Choice = aggregatorChoice ?? Choice, Combination = AnswerCombination.Aggregator }
            : this with { Combination = AnswerCombination.Vote };
}

/// <summary>
/// Combines the responders' answers into one: the only one; for multiple choice, agreement, the
/// aggregator or the gate-weighted vote (<see cref="WeightedVote"/>, exactly as the evaluation
/// combines them); for free text, agreement, the aggregator or the answer weighted highest. Pure.
/// </summary>
public static class AnswerCombiner
{
    /// <summary>How to combine <paramref name="answers"/>.</summary>
    /// <param name="answers">The responders that answered (at least one).</param>
    /// <param name="multipleChoice">True when the question has options (letters are compared, not text).</param>
    /// <param name="single">True when the plan ran one responder and no aggregator.</param>
    /// <param name="hasAggregator">True when the plan has an aggregator.</param>
    /// <param name="aggregatorFits">False when running the aggregator would break a latency budget the plan can meet.</param>
    public static CombinedAnswer Combine(IReadOnlyList<ExpertAnswer> answers, bool multipleChoice, bool single, bool hasAggregator, bool aggregatorFits = true)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentOutOfRangeException.ThrowIfZero(answers.Count);
        if (answers.Count == 1 && (single || !hasAggregator))
        {
            return new CombinedAnswer(0, answers[0].Choice, AnswerCombination.Single, AggregatorAction.None);
        }

        var agree = Agree(answers, multipleChoice);
        var (best, choice) = Vote(answers, multipleChoice);
        if (hasAggregator && (agree || answers.Count == 1))
        {
            return agree
                ? new CombinedAnswer(best, choice, AnswerCombination.Agreement, AggregatorAction.SkipAgreement)
                : new CombinedAnswer(best, choice, AnswerCombination.Single, AggregatorAction.SkipSingleAnswer);
        }

        if (hasAggregator)
        {
            return aggregatorFits
                ? new CombinedAnswer(best, choice, AnswerCombination.Vote, AggregatorAction.Run)
                : new CombinedAnswer(best, choice, multipleChoice ? AnswerCombination.Vote : AnswerCombination.BestWeighted, AggregatorAction.SkipNoTime);
        }

        if (agree)
        {
            return new CombinedAnswer(best, choice, AnswerCombination.Agreement, AggregatorAction.None);
        }

        return new CombinedAnswer(best, choice, multipleChoice && choice is not null ? AnswerCombination.Vote : AnswerCombination.BestWeighted, AggregatorAction.None);
    }

    /// <summary>True when every answer is the same: the same letter (all have one), or the same text up to case and spacing.</summary>
    public static bool Agree(IReadOnlyList<ExpertAnswer> answers, bool multipleChoice)
    {
        ArgumentNullException.ThrowIfNull(answers);
        if (answers.Count == 0)
        {
            return false;
        }

        if (multipleChoice)
        {
            var first = answers[0].Choice;
            for (var i = 0; i < answers.Count; i++)
            {
                if (answers[i].Choice is null || !string.Equals(answers[i].Choice, first, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        var text = Normalize(answers[0].Text);
        for (var i = 1; i < answers.Count; i++)
        {
            if (!string.Equals(Normalize(answers[i].Text), text, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The gate-weighted vote over the answers' letters in plan order (ties go to the heaviest
    /// ballot, then the earliest): the heaviest answer with the winning letter. Without letters, the
    /// answer weighted highest (the earliest among equals).
    /// </summary>
    public static (int Answer, string? Choice) Vote(IReadOnlyList<ExpertAnswer> answers, bool multipleChoice)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentOutOfRangeException.ThrowIfZero(answers.Count);

        // Stable: answers of one step keep the order they came in.
        var ordered = Enumerable.Range(0, answers.Count).OrderBy(i => answers[i].Order).ToArray();
        if (multipleChoice)
        {
            var ballots = new Ballot[ordered.Length];
            for (var i = 0; i < ordered.Length; i++)
            {
                ballots[i] = new Ballot(answers[ordered[i]].Choice, answers[ordered[i]].Weight);
            }

            if (WeightedVote.Combine(ballots).Answer is { } letter)
            {
                return (Heaviest(answers, ordered, letter), letter);
            }
        }

        var top = Heaviest(answers, ordered, letter: null);
        return (top, answers[top].Choice);
    }

    /// <summary>The heaviest answer (the earliest among equals), among those with <paramref name="letter"/> when given.</summary>
    private static int Heaviest(IReadOnlyList<ExpertAnswer> answers, int[] ordered, string? letter)
    {
        var best = -1;
        foreach (var i in ordered)
        {
            if (letter is not null && !string.Equals(answers[i].Choice, letter, StringComparison.Ordinal))
            {
                continue;
            }

            if (best < 0 || answers[i].Weight > answers[best].Weight)
            {
                best = i;
            }
        }

        return best;
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}
