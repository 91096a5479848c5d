namespace MoeMesh.Routing.Data;

/// <summary>Recorded questions and the models that answered them, as read by <see cref="RecordedDatasetReader"/>.</summary>
public sealed class RecordedDataset
{
    private readonly Dictionary<string, int> _modelIndex;

    /// <summary>Creates a dataset; every question must have one answer slot per model.</summary>
    public RecordedDataset(IReadOnlyList<string> models, IReadOnlyList<RecordedQuestion> questions, DatasetReadReport report)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(report);
        _modelIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < models.Count; i++)
        {
            if (!_modelIndex.TryAdd(models[i], i))
            {
                throw new ArgumentException($"model '{models[i]}' is listed twice", nameof(models));
            }
        }

        foreach (var question in questions)
        {
            if (question.ModelSlots != models.Count)
            {
                throw new ArgumentException(
                    $"question {question.QuestionId} has {question.ModelSlots} answer slots but the dataset has {models.Count} models",
                    nameof(questions));
            }
        }

        Models = models;
        Questions = questions;
        Report = report;
    }

    /// <summary>Model names, in the order answers are indexed.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>All questions, in file order.</summary>
    public IReadOnlyList<RecordedQuestion> Questions { get; }

    /// <summary>What the reader found: counts, unknown model names, gaps.</summary>
    public DatasetReadReport Report { get; }

    /// <summary>The answer index of <paramref name="model"/>; false when the dataset has no such model.</summary>
    public bool TryGetModelIndex(string model, out int index) => _modelIndex.TryGetValue(model, out index);

    /// <summary>The answer index of <paramref name="model"/>; throws naming the known models when absent.</summary>
    public int ModelIndex(string model)
        => _modelIndex.TryGetValue(model, out var index)
            ? index
            : throw new ArgumentException($"the dataset has no model '{model}'; it has: {string.Join(", ", Models)}", nameof(model));
}

/// <summary>What <see cref="RecordedDatasetReader"/> found while reading.</summary>
public sealed record DatasetReadReport
{
    /// <summary>Questions read.</summary>
    public int Questions { get; init; }

    /// <summary>Non-empty lines read.</summary>
    public int Lines { get; init; }

    /// <summary>Model names that are not in the caller's list of known models, with how many questions each answered.</summary>
    public IReadOnlyDictionary<string, int> UnknownModels { get; init; } = new Dictionary<string, int>();

    /// <summary>Per model, how many questions it did not answer (unavailable there).</summary>
    public IReadOnlyDictionary<string, int> MissingAnswers { get; init; } = new Dictionary<string, int>();

    /// <summary>Per model, how many answers gave no letter (counted as wrong).</summary>
    public IReadOnlyDictionary<string, int> UnextractedAnswers { get; init; } = new Dictionary<string, int>();

    /// <summary>Human-readable warnings, one per problem worth a look (unknown models first).</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            var warnings = new List<string>();
            foreach (var (model, count) in UnknownModels.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                warnings.Add($"model '{model}' ({count} answers) is not a known model; it has no size or cost figures and is left out of every pool");
            }

            return warnings;
        }
    }
}
