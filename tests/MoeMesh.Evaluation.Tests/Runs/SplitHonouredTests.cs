using MoeMesh.Devices;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Text;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Evaluation.Tests.Runs;

/// <summary>
/// No test question ever reaches a fitting routine: fitting on the real data and on a copy whose
/// test questions have scrambled answers and outcomes must give the very same routers.
/// </summary>
public sealed class SplitHonouredTests(RecordedDataFixture data) : IClassFixture<RecordedDataFixture>
{
    [Fact]
    public void Scrambling_every_test_answer_changes_no_fitted_router()
    {
        // A slice of the data keeps the test fast; the split rule is the same.
        var slice = data.Dataset.Questions.Where(q => q.QuestionId < 2500).ToArray();
        var original = new RecordedDataset(data.Dataset.Models, slice, data.Dataset.Report);
        var random = new Random(5);
        var scrambled = new RecordedDataset(
            data.Dataset.Models,
            slice.Select(q => DataSplit.Default.IsHeldOut(q.QuestionId) ? Scramble(q, random) : q).ToArray(),
            data.Dataset.Report);

        var routers = RouterNames.All.Where(r => r != RouterNames.Oracle).ToArray();
        var first = Fit(original, routers);
        var second = Fit(scrambled, routers);

        var test = DataSplit.Default.Test(original);
        Assert.NotEmpty(test.Questions);
        var candidates = new PlanningCandidate[first.Environment.CandidateCount];
        var budget = new SelectionBudget { MaxExperts = 3, EnergyJoules = 900 };
        foreach (var question in test.Questions.Take(300))
        {
            first.Environment.Candidates(question.PromptChars, candidates);
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget);
            foreach (var router in routers)
            {
                var a = first.Policies[router].Decide(query).Plan;
                var b = second.Policies[router].Decide(query).Plan;
                Assert.Equal(a.Responders.Select(r => (r.Candidate, r.Weight)), b.Responders.Select(r => (r.Candidate, r.Weight)));
                Assert.Equal(a.ExpertQuality, b.ExpertQuality);
            }
        }

        Assert.NotNull(first.Factory.Aggregator);
        Assert.Equal(first.Factory.Aggregator.Expert, second.Factory.Aggregator!.Expert);
        Assert.Equal(first.Factory.Aggregator.Scores, second.Factory.Aggregator.Scores);
    }

    [Fact]
    public void With_embeddings_scrambling_every_test_question_and_vector_changes_no_gate_threshold_or_choice()
    {
        var slice = data.Dataset.Questions.Where(q => q.QuestionId < 2500).ToArray();
        var original = new RecordedDataset(data.Dataset.Models, slice, data.Dataset.Report);
        var random = new Random(9);
        var scrambled = new RecordedDataset(
            data.Dataset.Models,
            slice.Select(q => DataSplit.Default.IsHeldOut(q.QuestionId) ? Scramble(q, random) : q).ToArray(),
            data.Dataset.Report);
        var vectors = HashingEmbedder.For(slice);

        // The second fit sees other vectors for every test question; the training ones are the same.
        var otherVectors = new QuestionEmbeddings(
            slice.ToDictionary(q => q.QuestionId, q => DataSplit.Default.IsHeldOut(q.QuestionId) ? HashingEmbedder.Embed("noise " + q.QuestionId) : vectors.Of(q.QuestionId)),
            HashingEmbedder.Dimension);
        string[] routers = [RouterNames.Moe2, RouterNames.Moe2Adaptive, RouterNames.SymbolicAggregator];
        var first = Fit(original, routers, vectors);
        var second = Fit(scrambled, routers, otherVectors);

        Assert.Equal(4, first.Factory.GateChoice!.Candidates.Count);
        Assert.Equal(first.Factory.GateChoice.Chosen.Name, second.Factory.GateChoice!.Chosen.Name);
        Assert.Equal(first.Factory.GateChoice.Candidates.Select(c => c.Validation), second.Factory.GateChoice.Candidates.Select(c => c.Validation));
        Assert.Equal(first.Factory.Adaptive, second.Factory.Adaptive);
        Assert.Equal(first.Factory.Aggregator!.Expert, second.Factory.Aggregator!.Expert);
        Assert.Equal(DataSplit.Default.Train(original).Questions.Count, first.Factory.TrainEmbeddings!.Count);

        var candidates = new PlanningCandidate[first.Environment.CandidateCount];
        var budget = new SelectionBudget { MaxExperts = 3, EnergyJoules = 900 };
        foreach (var question in DataSplit.Default.Test(original).Questions.Take(200))
        {
            first.Environment.Candidates(question.PromptChars, candidates);
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget, vectors.Of(question.QuestionId));
            foreach (var router in routers)
            {
                var a = first.Policies[router].Decide(query).Plan;
                var b = second.Policies[router].Decide(query).Plan;
                Assert.Equal(a.Responders.Select(r => (r.Candidate, r.Weight)), b.Responders.Select(r => (r.Candidate, r.Weight)));
            }
        }
    }

    private static (RoutingEnvironment Environment, RouterFactory Factory, Dictionary<string, IRoutingPolicy> Policies) Fit(RecordedDataset dataset, IReadOnlyList<string> routers, QuestionEmbeddings? embeddings = null)
    {
        var train = DataSplit.Default.Train(dataset);
        Assert.DoesNotContain(train.Questions, q => q.QuestionId % 5 == 0);
        var pool = RecordedModelCatalog.EdgePool;
        var options = new EvaluationOptions { Gate = new() { HashBits = 16, CrossFitFolds = 2 } };
        var environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), TestProfiles.Edge, options);
        var factory = new RouterFactory(train, environment, null, embeddings, embeddings is null ? null : HashingEmbedder.Embed);
        return (environment, factory, routers.ToDictionary(r => r, r => factory.Create(r).Policy));
    }

    private static RecordedQuestion Scramble(RecordedQuestion question, Random random)
    {
        var letters = Enumerable.Range(0, question.Options.Count).Select(i => ((char)('A' + i)).ToString()).ToArray();
        var answers = new RecordedAnswer?[question.ModelSlots];
        for (var m = 0; m < answers.Length; m++)
        {
            answers[m] = question.TryGetAnswer(m, out _) ? new RecordedAnswer(letters[random.Next(letters.Length)], random.Next(5000)) : null;
        }

        return new RecordedQuestion(question.QuestionId, question.Category, question.Source, question.Question, question.Options, letters[random.Next(letters.Length)], answers);
    }
}
