using System.Globalization;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;

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
        var options = Options(k, settings);
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
        var tally = new Tally(environment, evaluator, policy, setup);
        foreach (var record in records)
        {
            tally.Add(byId[record.QuestionId], record);
        }

        var n = Math.Max(1, records.Count);
        var accuracy = tally.Right / (double)n;
        return new ReplayEvalComparison
        {
            Router = router,
            K = k,
            Command = EvalCommandLine(router, k, settings),
            AccuracyOnSent = accuracy,
            AccuracyTestSplit = whole.Accuracy,
            GapPoints = (meshAccuracy - accuracy) * 100,
            MeanPredictedLatencyMs = tally.Latency / n,
            MeanPredictedEnergyJoules = tally.Energy / n,
            MeanExperts = tally.Experts / (double)n,
            PredictedWithinBudgets = tally.Within / (double)n,
            SameExperts = tally.Answered == 0 ? 0 : tally.SameExperts / (double)tally.Answered,
            SameAnswer = tally.Answered == 0 ? 0 : tally.SameAnswer / (double)tally.Answered,
        };
    }

    /// <summary>The evaluation's settings for the bench's k, budgets and output tokens; throws <see cref="ArgumentException"/> when they are invalid.</summary>
    private static EvaluationOptions Options(int k, ReplayBenchSettings settings)
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

        return options;
    }

    /// <summary>The <c>moemesh eval</c> command line that reproduces the prediction.</summary>
    private static string EvalCommandLine(string router, int k, ReplayBenchSettings settings)
    {
        var c = CultureInfo.InvariantCulture;
        return string.Create(c, $"moemesh eval --pool edge --router {router} --k {k}")
               + (settings.BudgetMs is { } ms ? string.Create(c, $" --budget-ms {ms}") : "")
               + (settings.BudgetJ is { } jb ? string.Create(c, $" --budget-j {jb}") : "")
               + (settings.OutputTokens != 256 ? string.Create(c, $" --output-tokens {settings.OutputTokens}") : "");
    }

    /// <summary>The router's predictions on the questions the bench sent, summed, and how often they matched what the mesh did.</summary>
    private sealed class Tally(RoutingEnvironment environment, RoutingEvaluator evaluator, IRoutingPolicy policy, ReplayBenchSetup setup)
    {
        private readonly SelectionBudget _budget = evaluator.DefaultBudget;

        public int Right { get; private set; }

        public double Latency { get; private set; }

        public double Energy { get; private set; }

        public int Experts { get; private set; }

        public int Within { get; private set; }

        public int SameExperts { get; private set; }

        public int SameAnswer { get; private set; }

        public int Answered { get; private set; }

        public void Add(RecordedQuestion question, ReplayQueryRecord record)
        {
            var candidates = environment.CandidatesFor(question);
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, _budget);
            var decision = policy.Decide(query);
            var answer = evaluator.Answer(question, decision, candidates);
            var plan = decision.Plan;
            Right += string.Equals(answer, question.Answer, StringComparison.Ordinal) ? 1 : 0;
            Latency += plan.LatencyMs;
            Energy += plan.EnergyJoules;
            Experts += plan.Responders.Count;
            Within += (_budget.LatencyMs is not { } l || plan.LatencyMs <= l) && (_budget.EnergyJoules is not { } j || plan.EnergyJoules <= j) ? 1 : 0;
            if (!record.Answered)
            {
                return;
            }

            Answered++;
            var planned = plan.Responders.Select(r => environment.Experts[candidates[r.Candidate].Expert]).ToHashSet(StringComparer.Ordinal);
            var ran = record.Experts.Select(id => setup.ModelOf(id) ?? id).ToHashSet(StringComparer.Ordinal);
            SameExperts += planned.SetEquals(ran) ? 1 : 0;
            SameAnswer += string.Equals(answer, record.Choice, StringComparison.Ordinal) ? 1 : 0;
        }
    }
}
