using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Tests.Support;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Tests.Gating;

public sealed class EmbeddingGateTests
{
    private static readonly string[] Models = ["fast", "science", "history"];

    // Science questions are answered right by "science" only; history ones by "science" and "history"; "fast" mostly errs.
    private static RecordedDataset Dataset() => SyntheticData.Build(Models, 600, id =>
    {
        var science = id % 2 == 0;
        var text = science ? $"quantum particle energy {id % 7} electron" : $"medieval king empire {id % 7} treaty";
        return (science ? "physics" : "history", science ? "ori_mmlu-physics" : "ori_mmlu-history", text, "A", [id % 4 == 0 ? "A" : "B", "A", science ? "D" : "A"]);
    });

    [Fact]
    public void A_gate_trained_on_embeddings_needs_and_uses_the_question_vector()
    {
        var dataset = Dataset();
        var train = DataSplit.Default.Train(dataset);
        var vectors = HashingEmbedder.For(dataset.Questions);
        var gate = LogisticGateTrainer.Fit(train, Models, new GateTrainingOptions { HashBits = 8, SkillFeatures = false, Epochs = 5 }, null, vectors);

        Assert.Equal(HashingEmbedder.Dimension, gate.Featurizer.EmbeddingDimension);
        var missing = Assert.Throws<ArgumentException>(() => gate.Estimate(new GateQuery("quantum particle"), new double[3]));
        Assert.Contains("embedding", missing.Message, StringComparison.Ordinal);
        var wrongLength = Assert.Throws<ArgumentException>(() => gate.Estimate(new GateQuery("quantum particle", null, new float[5]), new double[3]));
        Assert.Contains("5 dimensions", wrongLength.Message, StringComparison.Ordinal);

        var quality = new double[3];
        var science = dataset.Questions.First(q => q.QuestionId % 5 == 0 && q.Category == "physics");
        gate.Estimate(new GateQuery(science.Question, null, vectors.Of(science.QuestionId)), quality);
        Assert.True(quality[1] > quality[2], $"science expert {quality[1]:0.00} should beat history expert {quality[2]:0.00} on a science question");
    }

    [Fact]
    public void Gate_selection_cross_validates_every_configuration_on_the_training_split()
    {
        var dataset = Dataset();
        var train = DataSplit.Default.Train(dataset);
        var vectors = HashingEmbedder.For(train.Questions);
        var selection = GateSelector.Select(train, Models, new GateTrainingOptions { HashBits = 10, CrossFitFolds = 2, Epochs = 2 }, vectors);

        Assert.Equal(["words+skills", "words+skills+embedding", "words+skills+embedding, strong L2", "skills+embedding"], selection.Candidates.Select(c => c.Name));
        Assert.Equal(selection.Candidates.Max(c => c.Validation.TopOneAccuracy), selection.Chosen.Validation.TopOneAccuracy);
        Assert.Equal(train.Questions.Count, selection.HeldOut.Length);
        Assert.All(selection.HeldOut, row => Assert.Equal(Models.Length, row.Length));
    }

    [Fact]
    public void Adaptive_k_gives_confident_queries_fewer_experts_and_never_more_than_the_budget()
    {
        var dataset = Dataset();
        var train = DataSplit.Default.Train(dataset);

        // Held-out probabilities: sure of the right specialist on science; on history unsure, and
        // ranking "fast" first, so only the three-expert vote (two of them say A) is right.
        var heldOut = train.Questions.Select(q => q.Category == "physics" ? new[] { 0.3, 0.95, 0.1 } : [0.34, 0.3, 0.33]).ToArray();
        var adaptive = AdaptiveK.Choose(train, Models, heldOut, 3);

        Assert.Equal(1, adaptive.ExpertsFor(0.95, 3));
        Assert.True(adaptive.ExpertsFor(0.34, 3) > 1);
        Assert.Equal(1, adaptive.ExpertsFor(0.2, 1));
        Assert.InRange(adaptive.TrainMeanExperts, 1, 3);
        Assert.Throws<ArgumentException>(() => AdaptiveK.Choose(train, Models, heldOut[..5], 3));
    }

    [Fact]
    public void Keywords_match_the_nearest_profile_keyword_by_embedding()
    {
        var calls = 0;
        float[] Vector(string text)
        {
            calls++;
            return HashingEmbedder.Embed(text);
        }

        var matcher = new EmbeddingKeywordMatcher(["organic chemistry", "medieval history", "linear algebra"], Vector, minSimilarity: 0.3);
        Assert.Equal(3, calls);
        Assert.Equal(new KeywordMatch("linear algebra", 1), matcher.Match("Linear Algebra"));
        Assert.Equal("organic chemistry", matcher.Match("organic chemistry reactions").Keyword);
        Assert.Equal("organic chemistry", matcher.Match("organic chemistry reactions").Keyword);
        Assert.Equal(4, calls);
        var strict = new EmbeddingKeywordMatcher(["organic chemistry"], HashingEmbedder.Embed, minSimilarity: 0.99);
        Assert.Null(strict.Match("organic chemistry reactions").Keyword);
        Assert.Null(matcher.Match("   ").Keyword);
    }

    [Fact]
    public void Question_embeddings_refuse_vectors_of_the_wrong_length_and_name_a_missing_question()
    {
        Assert.Throws<ArgumentException>(() => new QuestionEmbeddings(new Dictionary<int, float[]> { [1] = new float[3] }, 4));
        var vectors = new QuestionEmbeddings(new Dictionary<int, float[]> { [1] = [1, 0], [2] = [0, 1] }, 2);
        Assert.Contains("question 7", Assert.Throws<KeyNotFoundException>(() => vectors.Of(7)).Message, StringComparison.Ordinal);
        Assert.Equal(1, vectors.Where(id => id == 2).Count);
        Assert.Equal(0, QuestionEmbeddings.Similarity(vectors.Of(1), vectors.Of(2)), 6);
    }
}
