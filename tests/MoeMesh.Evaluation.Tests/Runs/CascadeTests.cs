using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Evaluation.Tests.Runs;

public sealed class CascadeTests(RecordedDataFixture data) : IClassFixture<RecordedDataFixture>
{
    [Fact]
    public void The_cascade_asks_the_cheap_pair_first_and_the_rest_only_when_they_disagree()
    {
        var slice = data.Dataset.Questions.Where(q => q.QuestionId < 1500).ToArray();
        var dataset = new RecordedDataset(data.Dataset.Models, slice, data.Dataset.Report);
        var train = DataSplit.Default.Train(dataset);
        var test = DataSplit.Default.Test(dataset);
        var pool = RecordedModelCatalog.EdgePool;
        var options = new EvaluationOptions { Gate = new() { HashBits = 12, CrossFitFolds = 2, Epochs = 1 } };
        var environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), TestProfiles.Edge, options);
        var factory = new RouterFactory(train, environment);
        var cascade = factory.Create(RouterNames.Moe2Cascade).Policy;
        var plain = factory.Create(RouterNames.Moe2).Policy;
        var evaluator = new RoutingEvaluator(environment, test, TimeSpan.Zero);
        var budget = new SelectionBudget { MaxExperts = 3 };
        var stopped = 0;
        var escalated = 0;
        foreach (var question in test.Questions)
        {
            var candidates = environment.CandidatesFor(question);
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget);
            var decision = cascade.Decide(query);
            var full = plain.Decide(query).Plan;
            Assert.Equal(full.Responders.Select(r => r.Candidate).Order(), decision.Plan.Responders.Select(r => r.Candidate).Order());
            Assert.Equal(full.EnergyJoules, decision.Plan.EnergyJoules, 6);
            var stage = Assert.IsType<CascadeStage>(decision.Cascade);
            var energies = decision.Plan.Responders.Select(r => candidates[r.Candidate].EnergyJoules).ToArray();
            Assert.True(energies[0] <= energies[2] && energies[1] <= energies[2], "the first stage holds the two cheapest experts");
            Assert.True(decision.Plan.LatencyMs >= full.LatencyMs, "the stages run one after the other");

            var outcome = evaluator.Outcome(question, decision, candidates);
            var first = decision.Plan.Responders.Take(2).Select(r => question.PredictionOf(environment.Slots[candidates[r.Candidate].Expert])).ToArray();
            if (first[0] is not null && first[0] == first[1])
            {
                stopped++;
                Assert.Equal((first[0], 2, stage.EnergyJoules), (outcome.Answer, outcome.Experts, outcome.EnergyJoules));
            }
            else
            {
                escalated++;
                Assert.Equal((3, decision.Plan.EnergyJoules), (outcome.Experts, outcome.EnergyJoules));
            }
        }

        Assert.True(stopped > 0 && escalated > 0, $"stopped {stopped}, escalated {escalated}");
    }
}
