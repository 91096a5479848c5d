using System.Globalization;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// Runs <c>moemesh eval</c>'s router on the questions the bench sent, with the bench's pool, devices,
/// k and budgets, and compares its predicted answers and plans with what the mesh did.
/// </summary>
public static class ReplayEvalPrediction
{
    /// <summary>The eval router that corresponds to a routing strategy, or null when none does.</summary>
    public static string? RouterFor(RoutingStrategy strategy) => strategy switch
    {
        RoutingStrategy.Auto or RoutingStrategy.Moe2 or RoutingStrategy.Single => RouterNames.Moe2,
        RoutingStrategy.Symbolic => RouterNames.SymbolicAggregator,
        _ => null,
    };

    /// <summary>The k the router uses when the query gives none: 3 for the MoE² and Symbolic-MoE strategies, else 1.</summary>
    public static int DefaultK(RoutingStrategy strategy) => strategy is RoutingStrategy.Moe2 or RoutingStrategy.Symbolic ? 3 : 1;

    public static ReplayEvalComparison Compare(
        RecordedDataset dataset,
        ReplayBenchSetup setup,
        string router,
        int k,
        ReplayBenchSettings settings,
        IReadOnlyList<ReplayQueryRecord> records,
        double meshAccuracy,
        IProgress<string> progress)
    {
        var options = new EvaluationOptions
        {
            K = k,
            LatencyBudgetMs = settings.BudgetMs,
            EnergyBudgetJoules = settings.BudgetJ,
            DefaultOutputTokens = settings.OutputTokens,
        };
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems));
        }

        var train = DataSplit.Default.Train(dataset);
        var test = DataSplit.Default.Test(dataset);
        var environment = RoutingEnvironment.Create(train, ReplayBenchSetup.Pool, setup.Assignment, setup.Devices, options);
        var factory = new RouterFactory(train, environment, progress);
        progress.Report($"fitting {router} on the training split");
        var (policy, _) = factory.Create(router, router == RouterNames.Oracle ? test : null);
        var evaluator = new RoutingEvaluator(environment, test, TimeSpan.Zero);
        progress.Report($"routing the test split with {router}");
        var whole = evaluator.Run(policy);

        var byId = dataset.Questions.ToDictionary(q => q.QuestionId);
        var budget = evaluator.DefaultBudget;
        var right = 0;
        var latency = 0.0;
        var energy = 0.0;
        var experts = 0;
        var within = 0;
        var sameExperts = 0;
        var sameAnswer = 0;
        var answered = 0;
        foreach (var record in records)
        {
            var question = byId[record.QuestionId];
            var candidates = environment.CandidatesFor(question);
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget);
            var decision = policy.Decide(query);
            var answer = evaluator.Answer(question, decision, candidates);
            var plan = decision.Plan;
            right += string.Equals(answer, question.Answer, StringComparison.Ordinal) ? 1 : 0;
            latency += plan.LatencyMs;
            energy += plan.EnergyJoules;
            experts += plan.Responders.Count;
            within += (budget.LatencyMs is not { } l || plan.LatencyMs <= l) && (budget.EnergyJoules is not { } j || plan.EnergyJoules <= j) ? 1 : 0;
            if (!record.Answered)
            {
                continue;
            }

            answered++;
            var planned = plan.Responders.Select(r => environment.Experts[candidates[r.Candidate].Expert]).ToHashSet(StringComparer.Ordinal);
            var ran = record.Experts.Select(id => setup.ModelOf(id) ?? id).ToHashSet(StringComparer.Ordinal);
            sameExperts += planned.SetEquals(ran) ? 1 : 0;
            sameAnswer += string.Equals(answer, record.Choice, StringComparison.Ordinal) ? 1 : 0;
        }

        var n = Math.Max(1, records.Count);
        var accuracy = right / (double)n;
        var c = CultureInfo.InvariantCulture;
        var command = string.Create(c, $"moemesh eval --pool edge --router {router} --k {k}")
                      + (settings.BudgetMs is { } ms ? string.Create(c, $" --budget-ms {ms}") : "")
                      + (settings.BudgetJ is { } jb ? string.Create(c, $" --budget-j {jb}") : "")
                      + (settings.OutputTokens != 256 ? string.Create(c, $" --output-tokens {settings.OutputTokens}") : "");
        return new ReplayEvalComparison
        {
            Router = router,
            K = k,
            Command = command,
            AccuracyOnSent = accuracy,
            AccuracyTestSplit = whole.Accuracy,
            GapPoints = (meshAccuracy - accuracy) * 100,
            MeanPredictedLatencyMs = latency / n,
            MeanPredictedEnergyJoules = energy / n,
            MeanExperts = experts / (double)n,
            PredictedWithinBudgets = within / (double)n,
            SameExperts = answered == 0 ? 0 : sameExperts / (double)answered,
            SameAnswer = answered == 0 ? 0 : sameAnswer / (double)answered,
        };
    }
}
