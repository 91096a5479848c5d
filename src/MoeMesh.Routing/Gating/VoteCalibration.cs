using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Gating;

/// <summary>Facts about how experts vote, learned on the training split.</summary>
public static class VoteCalibration
{
    /// <summary>
    /// How often two experts that are both wrong give the same wrong answer: over every training
    /// question and every pair of <paramref name="experts"/> that both answered wrong with a letter.
    /// Models share misconceptions, so this is well above 1/(options − 1).
    /// </summary>
    public static double WrongAnswerCoincidence(TrainingSet train, IReadOnlyList<string> experts)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        var slots = experts.Select(train.ModelIndex).ToArray();
        long pairs = 0;
        long same = 0;
        var wrong = new List<string>(slots.Length);
        foreach (var question in train.Questions)
        {
            wrong.Clear();
            foreach (var slot in slots)
            {
                if (question.PredictionOf(slot) is { } answer && !string.Equals(answer, question.Answer, StringComparison.Ordinal))
                {
                    wrong.Add(answer);
                }
            }

            for (var a = 0; a < wrong.Count; a++)
            {
                for (var b = a + 1; b < wrong.Count; b++)
                {
                    pairs++;
                    same += string.Equals(wrong[a], wrong[b], StringComparison.Ordinal) ? 1 : 0;
                }
            }
        }

        return pairs == 0 ? 0 : same / (double)pairs;
    }
}
