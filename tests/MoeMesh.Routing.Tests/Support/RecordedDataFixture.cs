using MoeMesh.Routing.Data;

namespace MoeMesh.Routing.Tests.Support;

/// <summary>Loads the recorded MMLU-Pro outputs once per test class that needs them.</summary>
public sealed class RecordedDataFixture
{
    public RecordedDataFixture()
    {
        DataFile = Locate();
        using var stream = File.OpenRead(DataFile);
        Dataset = RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
        Train = DataSplit.Default.Train(Dataset);
        Test = DataSplit.Default.Test(Dataset);
    }

    public string DataFile { get; }

    public RecordedDataset Dataset { get; }

    public TrainingSet Train { get; }

    public EvaluationSet Test { get; }

    /// <summary>The recorded outputs, found as shared/data/mmlu-pro-29 next to the repository.</summary>
    public static string Locate()
    {
        var relative = Path.Combine("shared", "data", "mmlu-pro-29", "mmlu_pro_29_models.jsonl.gz");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"the recorded outputs were not found: no '{relative}' above '{AppContext.BaseDirectory}'. " +
            "These tests need the shared data folder next to the repository (as in CI).");
    }
}

/// <summary>Small hand-made datasets for tests that should not depend on the recorded data.</summary>
public static class SyntheticData
{
    /// <summary>A dataset whose questions are built by <paramref name="make"/> for ids 0..count-1.</summary>
    public static RecordedDataset Build(IReadOnlyList<string> models, int count, Func<int, (string Category, string Source, string Question, string Answer, string?[] Predictions)> make)
    {
        var questions = new List<RecordedQuestion>();
        for (var id = 0; id < count; id++)
        {
            var (category, source, text, answer, predictions) = make(id);
            var answers = predictions.Select(p => (RecordedAnswer?)new RecordedAnswer(p, 0)).ToArray();
            questions.Add(new RecordedQuestion(id, category, source, text, ["alpha", "beta", "gamma", "delta"], answer, answers));
        }

        return new RecordedDataset(models, questions, new DatasetReadReport { Questions = count, Lines = count });
    }
}
