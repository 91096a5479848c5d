namespace MoeMesh.Routing.Data;

/// <summary>
/// Which recorded questions are held out for testing. The recorded-outputs README fixes the rule:
/// a question is held out when <c>question_id % 5 == 0</c>; every profile, gate, threshold and
/// skill table is built from the others only.
/// </summary>
public sealed record DataSplit
{
    /// <summary>The split of the recorded MMLU-Pro outputs: test when <c>question_id % 5 == 0</c>.</summary>
    public static DataSplit Default { get; } = new() { Modulus = 5, TestRemainder = 0 };

    /// <summary>Holds nothing out: for fitting on a deployment's own labelled records.</summary>
    public static DataSplit None { get; } = new() { Modulus = 1, TestRemainder = -1 };

    /// <summary>Question ids are grouped by their remainder modulo this number.</summary>
    public int Modulus { get; init; } = 5;

    /// <summary>Questions whose id has this remainder are held out; -1 holds out none.</summary>
    public int TestRemainder { get; init; }

    /// <summary>True when <paramref name="questionId"/> is held out for testing.</summary>
    public bool IsHeldOut(int questionId)
    {
        if (Modulus < 1)
        {
            throw new InvalidOperationException($"the split's modulus must be at least 1, got {Modulus}");
        }

        var remainder = ((questionId % Modulus) + Modulus) % Modulus;
        return remainder == TestRemainder;
    }

    /// <summary>The questions fitting routines may see.</summary>
    public TrainingSet Train(RecordedDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new TrainingSet(dataset.Models, dataset.Questions.Where(q => !IsHeldOut(q.QuestionId)).ToArray(), this);
    }

    /// <summary>The held-out questions results are reported on.</summary>
    public EvaluationSet Test(RecordedDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new EvaluationSet(dataset.Models, dataset.Questions.Where(q => IsHeldOut(q.QuestionId)).ToArray());
    }
}

/// <summary>
/// Questions a fitting routine may learn from. Every fitting entry point in this library takes a
/// <see cref="TrainingSet"/>, and a training set refuses held-out questions, so no test question
/// can reach a fitted profile, gate, threshold or skill table.
/// </summary>
public sealed class TrainingSet
{
    /// <summary>Creates a training set; throws when any question is held out by <paramref name="split"/>.</summary>
    public TrainingSet(IReadOnlyList<string> models, IReadOnlyList<RecordedQuestion> questions, DataSplit split)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(split);
        foreach (var question in questions)
        {
            if (split.IsHeldOut(question.QuestionId))
            {
                throw new ArgumentException(
                    $"question {question.QuestionId} is held out for testing and must not be used for fitting",
                    nameof(questions));
            }

            if (question.ModelSlots != models.Count)
            {
                throw new ArgumentException($"question {question.QuestionId} does not match the model list", nameof(questions));
            }
        }

        Models = models;
        Questions = questions;
        Split = split;
    }

    /// <summary>Model names, in the order answers are indexed.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>The training questions.</summary>
    public IReadOnlyList<RecordedQuestion> Questions { get; }

    /// <summary>The split the questions were checked against.</summary>
    public DataSplit Split { get; }

    /// <summary>The answer index of <paramref name="model"/>.</summary>
    public int ModelIndex(string model)
    {
        for (var i = 0; i < Models.Count; i++)
        {
            if (string.Equals(Models[i], model, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new ArgumentException($"the training set has no model '{model}'; it has: {string.Join(", ", Models)}", nameof(model));
    }

    /// <summary>A subset of these questions (for cross-validation within the training set).</summary>
    public TrainingSet Subset(IEnumerable<RecordedQuestion> questions) => new(Models, questions.ToArray(), Split);
}

/// <summary>Held-out questions that results are reported on; never handed to a fitting routine.</summary>
public sealed class EvaluationSet(IReadOnlyList<string> models, IReadOnlyList<RecordedQuestion> questions)
{
    /// <summary>Model names, in the order answers are indexed.</summary>
    public IReadOnlyList<string> Models { get; } = models ?? throw new ArgumentNullException(nameof(models));

    /// <summary>The test questions.</summary>
    public IReadOnlyList<RecordedQuestion> Questions { get; } = questions ?? throw new ArgumentNullException(nameof(questions));
}
