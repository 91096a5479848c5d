namespace MoeMesh.Routing.Data;

/// <summary>What one model answered to one recorded question.</summary>
/// <param name="Prediction">The answer letter the model gave, or <see langword="null"/> when none could be extracted (counts as wrong).</param>
/// <param name="OutputChars">Length of the model's written output in characters; 0 when the recording kept none.</param>
public readonly record struct RecordedAnswer(string? Prediction, int OutputChars);

/// <summary>
/// One multiple-choice question with the answers every recorded model gave. Answers are indexed by
/// the model's position in <see cref="RecordedDataset.Models"/>.
/// </summary>
public sealed class RecordedQuestion
{
    private readonly RecordedAnswer?[] _answers;

    /// <summary>Creates a question; <paramref name="answers"/> is indexed like the dataset's model list (null = the model did not answer).</summary>
    public RecordedQuestion(
        int questionId,
        string category,
        string source,
        string question,
        IReadOnlyList<string> options,
        string answer,
        RecordedAnswer?[] answers)
    {
        ArgumentNullException.ThrowIfNull(category);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(answer);
        ArgumentNullException.ThrowIfNull(answers);
        QuestionId = questionId;
        Category = category;
        Source = source;
        Question = question;
        Options = options;
        Answer = answer;
        _answers = answers;
    }

    /// <summary>The benchmark's question id; also decides the train/test split.</summary>
    public int QuestionId { get; }

    /// <summary>Subject category, such as "math" or "law".</summary>
    public string Category { get; }

    /// <summary>Where the question came from ("ori_mmlu-anatomy", "stemez-Physics"): finer than the category.</summary>
    public string Source { get; }

    /// <summary>The question text.</summary>
    public string Question { get; }

    /// <summary>The answer options, lettered A, B, C, … in order.</summary>
    public IReadOnlyList<string> Options { get; }

    /// <summary>The right answer letter.</summary>
    public string Answer { get; }

    /// <summary>How many models the dataset has slots for.</summary>
    public int ModelSlots => _answers.Length;

    /// <summary>Question and options as one prompt text, the way a model would read it.</summary>
    public string PromptText
    {
        get
        {
            var builder = new System.Text.StringBuilder(Question.Length + 16 * Options.Count);
            builder.Append(Question);
            for (var i = 0; i < Options.Count; i++)
            {
                builder.Append('\n').Append((char)('A' + i)).Append(". ").Append(Options[i]);
            }

            return builder.ToString();
        }
    }

    /// <summary>Characters of the question and its options (the prompt before any template).</summary>
    public int PromptChars
    {
        get
        {
            var chars = Question.Length;
            foreach (var option in Options)
            {
                chars += option.Length + 4;
            }

            return chars;
        }
    }

    /// <summary>The answer model <paramref name="modelIndex"/> gave; false when it did not answer this question.</summary>
    public bool TryGetAnswer(int modelIndex, out RecordedAnswer answer)
    {
        if ((uint)modelIndex < (uint)_answers.Length && _answers[modelIndex] is { } given)
        {
            answer = given;
            return true;
        }

        answer = default;
        return false;
    }

    /// <summary>True when the model answered and was right, false when it answered wrong or gave no letter, null when it did not answer.</summary>
    public bool? IsCorrect(int modelIndex)
        => TryGetAnswer(modelIndex, out var given) ? string.Equals(given.Prediction, Answer, StringComparison.Ordinal) : null;

    /// <summary>The letter model <paramref name="modelIndex"/> gave, or null when it gave none or did not answer.</summary>
    public string? PredictionOf(int modelIndex) => TryGetAnswer(modelIndex, out var given) ? given.Prediction : null;
}
