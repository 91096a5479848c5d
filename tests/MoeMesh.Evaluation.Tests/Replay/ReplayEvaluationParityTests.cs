using MoeMesh.Devices;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Evaluation.Tests.Replay;

/// <summary>
/// A replayed run costs what <c>moemesh eval</c> predicts for the same expert on the same device:
/// same prompt tokens, output tokens, time and energy (eval's latency also counts the LAN transfer,
/// which in the live mesh is the mesh's own).
/// </summary>
[Collection(ReplayDataCollection.Name)]
public sealed class ReplayEvaluationParityTests(ReplayDataFixture data)
{
    [Fact]
    public async Task Every_edge_expert_replays_the_cost_the_evaluation_predicts_on_its_default_device()
    {
        var pool = RecordedModelCatalog.EdgePool;
        var assignment = DeviceAssignment.DefaultFor(pool);
        var profiles = new Dictionary<string, DeviceProfile>(StringComparer.Ordinal)
        {
            [DeviceAssignment.JetsonId] = data.Jetson,
            [DeviceAssignment.Rtx4090Id] = data.Rtx4090,
        };
        var environment = RoutingEnvironment.Create(DataSplit.Default.Train(data.Recording.Dataset), pool, assignment, profiles, new EvaluationOptions());
        var questions = data.TestQuestions.Where((_, i) => i % 97 == 0).ToList();
        Assert.True(questions.Count >= 20);

        for (var e = 0; e < pool.Count; e++)
        {
            var device = profiles[assignment.DevicesOf(pool[e]).Single()];
            await using var engine = await data.Provider(device).LoadAsync(data.Manifest(pool[e]));
            foreach (var question in questions)
            {
                var candidate = environment.CandidatesFor(question).Single(c => c.Expert == e);
                var run = engine.Plan(ReplayPrompts.Responder(question));

                Assert.Equal(environment.PromptTokens(question.PromptChars), run.PromptTokens);
                Assert.Equal(environment.OutputTokens(e), run.OutputTokens);
                Assert.Equal(candidate.LatencyMs, run.Cost.LatencyMs, 9);
                Assert.Equal(candidate.EnergyJoules, run.Metrics.EnergyJoules!.Value, 9);
            }
        }
    }
}
