using MoeMesh.Routing.Data;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Routing.Tests.Fitting;

public sealed class RoutingFitTests(RecordedDataFixture data) : IClassFixture<RecordedDataFixture>
{
    [Fact]
    public void A_saved_fit_loads_back_and_scores_every_query_as_the_fitted_gate_does()
    {
        var (fit, test, vectors) = FitSlice();
        var path = Path.Combine(Path.GetTempPath(), $"moemesh-fit-{Guid.NewGuid():N}.fit");
        try
        {
            fit.Save(path);
            var loaded = RoutingFit.Load(path);

            Assert.Equal(fit.Pool, loaded.Pool);
            Assert.Equal(fit.DataHash, loaded.DataHash);
            Assert.Equal(fit.EmbeddingModel, loaded.EmbeddingModel);
            Assert.Equal(fit.Adaptive, loaded.Adaptive);
            Assert.Equal(fit.Aggregator, loaded.Aggregator);
            Assert.Equal(fit.Profiles.Keywords, loaded.Profiles.Keywords);
            Assert.Equal(fit.GateName, loaded.GateName);
            var a = new double[fit.Pool.Count];
            var b = new double[fit.Pool.Count];
            foreach (var question in test.Take(50))
            {
                var query = new GateQuery(question.PromptText, null, fit.Gate.Featurizer.EmbeddingDimension > 0 ? vectors.Of(question.QuestionId) : null);
                fit.Gate.Estimate(query, a);
                loaded.Gate.Estimate(query, b);
                Assert.Equal(a, b);
                Assert.Equal(fit.Skills.Extract(question.PromptText), loaded.Skills.Extract(question.PromptText));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_damaged_or_foreign_fit_file_is_refused_with_a_clear_error()
    {
        var (fit, _, _) = FitSlice();
        var path = Path.Combine(Path.GetTempPath(), $"moemesh-fit-{Guid.NewGuid():N}.fit");
        try
        {
            fit.Save(path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => RoutingFit.Load(path)).Message, StringComparison.Ordinal);

            File.WriteAllText(path, "not a fit at all, just some text");
            Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => RoutingFit.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private (RoutingFit Fit, IReadOnlyList<RecordedQuestion> Test, MoeMesh.Routing.Text.QuestionEmbeddings Vectors) FitSlice()
    {
        var slice = data.Dataset.Questions.Where(q => q.QuestionId < 1500).ToArray();
        var dataset = new RecordedDataset(data.Dataset.Models, slice, data.Dataset.Report);
        var train = DataSplit.Default.Train(dataset);
        var pool = RecordedModelCatalog.EdgePool;
        var options = new EvaluationOptions { Gate = new() { HashBits = 12, CrossFitFolds = 2, Epochs = 1 } };
        var environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), TestProfiles.Edge, options);
        var vectors = HashingEmbedder.For(slice);
        var factory = new RouterFactory(train, environment, null, vectors, HashingEmbedder.Embed);
        return (RoutingFit.From(factory, "0123456789abcdef", "hashing-test"), DataSplit.Default.Test(dataset).Questions, vectors);
    }
}
