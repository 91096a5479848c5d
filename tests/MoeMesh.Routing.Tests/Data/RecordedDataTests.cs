using MoeMesh.Routing.Data;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Routing.Tests.Data;

public sealed class RecordedDataTests(RecordedDataFixture data) : IClassFixture<RecordedDataFixture>
{
    [Fact]
    public void The_recorded_file_has_every_catalogued_model_and_the_documented_split()
    {
        Assert.Equal(12_032, data.Dataset.Questions.Count);
        Assert.Empty(data.Dataset.Report.UnknownModels);
        Assert.Equal(RecordedModelCatalog.KnownNames.Order(), data.Dataset.Models.Order());
        Assert.Equal(9_623, data.Train.Questions.Count);
        Assert.Equal(2_409, data.Test.Questions.Count);
        Assert.All(data.Train.Questions, q => Assert.NotEqual(0, q.QuestionId % 5));
        Assert.All(data.Test.Questions, q => Assert.Equal(0, q.QuestionId % 5));
    }

    [Fact]
    public void The_best_single_edge_model_matches_the_readme()
    {
        var slot = data.Dataset.ModelIndex("Meta-Llama-3_1-8B-Instruct");
        var accuracy = data.Test.Questions.Count(q => q.IsCorrect(slot) == true) / (double)data.Test.Questions.Count;
        Assert.Equal(0.428, accuracy, 3);
    }

    [Fact]
    public void Skill_labels_come_from_category_and_source()
    {
        Assert.Equal(("chemistry", "chemistry"), (RecordedSkillLabels.FromCategory("chemistry"), RecordedSkillLabels.FromSource("ori_mmlu-high_school_chemistry", "chemistry")));
        Assert.Equal("electric circuits", RecordedSkillLabels.FromSource("stemez-ElectricCircuits", "engineering"));
        Assert.Equal("physical chemistry", RecordedSkillLabels.FromSource("scibench-atkins", "chemistry"));
        Assert.Equal("general knowledge", RecordedSkillLabels.FromSource("ori_mmlu-miscellaneous", "other"));
        Assert.Equal("computer science", RecordedSkillLabels.FromCategory("computer science"));
    }
}

public sealed class DataSplitTests
{
    [Fact]
    public void A_training_set_refuses_held_out_questions()
    {
        var dataset = SyntheticData.Build(["m"], 10, id => ("math", "s", $"question {id}", "A", ["A"]));
        var heldOut = dataset.Questions.Where(q => q.QuestionId % 5 == 0).ToArray();
        var error = Assert.Throws<ArgumentException>(() => new TrainingSet(dataset.Models, heldOut, DataSplit.Default));
        Assert.Contains("held out for testing", error.Message, StringComparison.Ordinal);

        var train = DataSplit.Default.Train(dataset);
        Assert.Equal(8, train.Questions.Count);
        Assert.Throws<ArgumentException>(() => train.Subset(dataset.Questions));
        Assert.Equal(10, new TrainingSet(dataset.Models, dataset.Questions, DataSplit.None).Questions.Count);
    }

    [Fact]
    public void Negative_ids_follow_the_same_rule()
    {
        Assert.True(DataSplit.Default.IsHeldOut(-10));
        Assert.False(DataSplit.Default.IsHeldOut(-7));
        Assert.False(DataSplit.None.IsHeldOut(0));
    }
}
