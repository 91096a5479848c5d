using MoeMesh.Routing.Data;
using MoeMesh.Routing.Probing;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Tests.Probing;

public sealed class CorrectnessProbesTests
{
    private static readonly string[] Models = ["math-model", "law-model", "guesser"];

    // The math model is right on math and wrong on law, the law model the other way round; the guesser is right one time in four.
    private static (TrainingSet Train, QuestionEmbeddings Embeddings) Data()
    {
        var questions = new List<RecordedQuestion>();
        var vectors = new Dictionary<int, float[]>();
        for (var id = 1; questions.Count < 200; id++)
        {
            if (DataSplit.Default.IsHeldOut(id))
            {
                continue;
            }

            var math = id % 2 == 0;
            RecordedAnswer?[] answers =
            [
                new RecordedAnswer(math ? "A" : "B", 0),
                new RecordedAnswer(math ? "C" : "A", 0),
                new RecordedAnswer(id % 4 == 1 ? "A" : "D", 0),
            ];
            questions.Add(new RecordedQuestion(id, math ? "math" : "law", math ? "algebra" : "torts", $"question {id}", ["w", "x", "y", "z"], "A", answers));
            vectors[id] = math ? [1f, 0f] : [0f, 1f];
        }

        var dataset = new RecordedDataset(Models, questions, new DatasetReadReport());
        return (DataSplit.Default.Train(dataset), new QuestionEmbeddings(vectors, 2));
    }

    [Fact]
    public void Estimators_that_know_the_subject_rank_the_right_specialist_first_out_of_fold()
    {
        var (train, embeddings) = Data();

        var results = CorrectnessProbes.Run(train, Models, embeddings);

        Assert.Contains(results, r => r.Estimator.StartsWith("rate per recorded category", StringComparison.Ordinal));
        Assert.Contains(results, r => r.Estimator.Contains("nearest questions", StringComparison.Ordinal));
        Assert.All(results, r =>
        {
            Assert.Equal(1.0, r.TopOne, 9);
            Assert.Equal(1.0, r.VoteOfThree, 9);
            Assert.InRange(r.LogLoss, 0, 1);
        });
        Assert.InRange(results[0].LogLoss, 0, 0.3);
    }

    [Fact]
    public void Without_embeddings_only_the_subject_and_source_estimators_run()
    {
        var (train, _) = Data();

        var results = CorrectnessProbes.Run(train, Models);

        Assert.Equal(4, results.Count);
        Assert.DoesNotContain(results, r => r.Estimator.Contains("embedding", StringComparison.Ordinal));
    }

    [Fact]
    public void A_training_question_without_an_embedding_is_named()
    {
        var (train, _) = Data();
        var partial = new QuestionEmbeddings(new Dictionary<int, float[]> { [1] = [1f, 0f] }, 2);

        var error = Assert.Throws<KeyNotFoundException>(() => CorrectnessProbes.Run(train, Models, partial));

        Assert.Contains("has no embedding", error.Message, StringComparison.Ordinal);
    }
}
