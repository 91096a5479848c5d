using MoeMesh.Evaluation.Baselines;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Evaluation.Tests.Runs;

public sealed class AvailabilityTests
{
    private static readonly string[] Models = ["Meta-Llama-3_1-8B-Instruct", "Phi-3-mini-4k-instruct"];

    [Fact]
    public void An_expert_without_a_recorded_answer_is_unavailable_and_the_best_single_falls_back()
    {
        // Llama is right more often on the training split but did not answer question 5.
        var questions = new List<RecordedQuestion>();
        for (var id = 0; id < 40; id++)
        {
            RecordedAnswer?[] answers = id == 5
                ? [null, new RecordedAnswer("A", 0)]
                : [new RecordedAnswer("A", 0), new RecordedAnswer(id % 2 == 0 ? "A" : "B", 0)];
            questions.Add(new RecordedQuestion(id, "math", "s", $"question {id}", ["x", "y"], "A", answers));
        }

        var dataset = new RecordedDataset(Models, questions, new DatasetReadReport());
        var train = DataSplit.Default.Train(dataset);
        var environment = RoutingEnvironment.Create(
            train, Models, DeviceAssignment.Parse($"{DeviceAssignment.Rtx4090Id}:{Models[0]},{Models[1]}"), TestProfiles.Edge, new EvaluationOptions());
        var question5 = dataset.Questions[5];
        var candidates = environment.CandidatesFor(question5);
        Assert.Equal([1], candidates.Select(c => c.Expert));

        var best = BestSinglePolicy.Fit(train, Models);
        Assert.Equal(Models[0], best.ExpertName);
        var query = new RoutingQuery(5, question5.PromptText, question5.Category, question5.PromptChars, 2, candidates, new SelectionBudget { MaxExperts = 1 });
        Assert.Equal(Models[1], Assert.Single(best.Decide(query).Plan.Responders).ExpertId);

        var report = new RoutingEvaluator(environment, DataSplit.Default.Test(dataset), TimeSpan.Zero).Run(best);
        Assert.Equal(1.0, report.Accuracy);
    }
}
