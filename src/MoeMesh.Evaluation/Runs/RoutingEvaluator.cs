using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;
using System.Diagnostics;
using MoeMesh.Monitoring;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Text;

namespace MoeMesh.Evaluation.Runs;

/// <summary>One router's results on the test split.</summary>
public sealed record RouterReport
{
    /// <summary>The router's name.</summary>
    public required string Router { get; init; }

    /// <summary>Test questions routed.</summary>
    public int Questions { get; init; }

    /// <summary>Share answered right.</summary>
    public double Accuracy { get; init; }

    /// <summary>Mean predicted plan latency, in milliseconds.</summary>
    public double MeanLatencyMs { get; init; }

    /// <summary>95th percentile of predicted plan latency, in milliseconds.</summary>
    public double P95LatencyMs { get; init; }

    /// <summary>Mean predicted plan energy, in joules.</summary>
    public double MeanEnergyJoules { get; init; }

    /// <summary>Mean experts run per question (aggregator runs not counted).</summary>
    public double MeanExperts { get; init; }

    /// <summary>Share of questions whose planned cost is over a budget.</summary>
    public double OverBudgetShare { get; init; }

    /// <summary>Questions over budget although some plan met the budgets (a router's own failing).</summary>
    public int Violations { get; init; }

    /// <summary>Share of questions for which no plan meets the budgets (reported, cheapest plan run).</summary>
    public double InfeasibleShare { get; init; }

    /// <summary>Mean time to decide, in microseconds: candidate costs, scoring and selection.</summary>
    public double MeanDecisionMicroseconds { get; init; }

    /// <summary>99th percentile of the decision time, in microseconds.</summary>
    public double P99DecisionMicroseconds { get; init; }

    /// <summary>Time spent fitting on the training split, in seconds (shared parts counted where first fitted).</summary>
    public double FitSeconds { get; init; }

    /// <summary>True when the router respects budgets whenever it can.</summary>
    public bool BudgetAware { get; init; }

    /// <summary>The reason the first infeasible question gave (which budget binds and what the cheapest plan costs); null when none was.</summary>
    public string? InfeasibleExample { get; init; }
}

/// <summary>
/// Runs fitted routers over the held-out questions: the router decides from the question text and
/// the predicted costs; only then are the recorded answers read to score its plan.
/// </summary>
public sealed class RoutingEvaluator
{
    private readonly RoutingEnvironment _environment;
    private readonly EvaluationSet _test;
    private readonly TimeSpan _warmUp;
    private readonly QuestionEmbeddings? _embeddings;

    /// <summary>Creates an evaluator of <paramref name="test"/>'s questions; <paramref name="warmUp"/> (default <see cref="DefaultWarmUp"/>) is spent deciding before timing.</summary>
    public RoutingEvaluator(RoutingEnvironment environment, EvaluationSet test, TimeSpan? warmUp = null, QuestionEmbeddings? embeddings = null)
    {
        _embeddings = embeddings;
        _warmUp = warmUp ?? DefaultWarmUp;
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        _test = test ?? throw new ArgumentNullException(nameof(test));
        if (test.Questions.Count == 0)
        {
            throw new ArgumentException("the test split has no questions", nameof(test));
        }
    }

    /// <summary>The default budget of the run: the options' budgets and k.</summary>
    public SelectionBudget DefaultBudget => new()
    {
        MaxExperts = _environment.Options.K,
        LatencyMs = _environment.Options.LatencyBudgetMs,
        EnergyJoules = _environment.Options.EnergyBudgetJoules,
    };

    /// <summary>Routes every test question with <paramref name="policy"/> under <paramref name="budget"/> and scores the plans.</summary>
    public RouterReport Run(IRoutingPolicy policy, SelectionBudget? budget = null, double fitSeconds = 0, Action<RecordedQuestion, PolicyDecision, PlanningCandidate[]>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        budget ??= DefaultBudget;
        var n = _test.Questions.Count;
        var latencies = new double[n];
        var decisionTicks = new long[n];
        var right = 0;
        var energy = 0.0;
        var experts = 0L;
        var over = 0;
        var violations = 0;
        var infeasible = 0;
        string? infeasibleExample = null;
        WarmUp(policy, budget);
        var stopwatch = new Stopwatch();
        for (var q = 0; q < n; q++)
        {
            var question = _test.Questions[q];
            stopwatch.Restart();
            var candidates = _environment.CandidatesFor(question);
            var promptChars = question.PromptChars;
            var query = new RoutingQuery(question.QuestionId, question.PromptText, question.Category, promptChars, question.Options.Count, candidates, budget, _embeddings?.TryOf(question.QuestionId));
            var decision = policy.Decide(query);
            stopwatch.Stop();
            decisionTicks[q] = stopwatch.ElapsedTicks;

            var plan = decision.Plan;
            observe?.Invoke(question, decision, candidates);
            if (plan.Infeasible is { } why)
            {
                infeasibleExample ??= $"question {question.QuestionId}: {why.Message}";
            }

            var (answer, asked, latency, joules) = Outcome(question, decision, candidates);
            right += string.Equals(answer, question.Answer, StringComparison.Ordinal) ? 1 : 0;
            latencies[q] = latency;
            energy += joules;
            experts += asked;
            var isOver = (budget.LatencyMs is { } l && plan.LatencyMs > l) || (budget.EnergyJoules is { } j && plan.EnergyJoules > j);
            var anyFits = AnyPlanFits(candidates, budget);
            over += isOver ? 1 : 0;
            violations += isOver && anyFits ? 1 : 0;
            infeasible += anyFits ? 0 : 1;
        }

        var micros = decisionTicks.Select(t => t * 1e6 / Stopwatch.Frequency).ToArray();
        return new RouterReport
        {
            Router = policy.Name,
            Questions = n,
            Accuracy = right / (double)n,
            MeanLatencyMs = latencies.Average(),
            P95LatencyMs = Percentiles.NearestRank(latencies, 0.95),
            MeanEnergyJoules = energy / n,
            MeanExperts = experts / (double)n,
            OverBudgetShare = over / (double)n,
            Violations = violations,
            InfeasibleShare = infeasible / (double)n,
            MeanDecisionMicroseconds = micros.Average(),
            P99DecisionMicroseconds = Percentiles.NearestRank(micros, 0.99),
            FitSeconds = fitSeconds,
            BudgetAware = policy.BudgetAware,
            InfeasibleExample = infeasibleExample,
        };
    }

    /// <summary>The plan's final answer from the recorded answers of its responders (and aggregator).</summary>
    /// <summary>
    /// The final answer, the experts asked and the cost spent: the plan's, except for a cascade whose
    /// first stage agreed, which stops there (its answer, its cost).
    /// </summary>
    public (string? Answer, int Experts, double LatencyMs, double EnergyJoules) Outcome(RecordedQuestion question, PolicyDecision decision, IReadOnlyList<PlanningCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(candidates);
        var plan = decision.Plan;
        if (decision.Cascade is { } stage && stage.Responders < plan.Responders.Count)
        {
            string? agreed = null;
            var unanimous = true;
            for (var r = 0; r < stage.Responders && unanimous; r++)
            {
                var given = question.PredictionOf(_environment.Slots[candidates[plan.Responders[r].Candidate].Expert]);
                unanimous = given is not null && (r == 0 || string.Equals(given, agreed, StringComparison.Ordinal));
                agreed = given;
            }

            if (unanimous)
            {
                return (agreed, stage.Responders, stage.LatencyMs, stage.EnergyJoules);
            }
        }

        return (Answer(question, decision, candidates), plan.Responders.Count, plan.LatencyMs, plan.EnergyJoules);
    }

    public string? Answer(RecordedQuestion question, PolicyDecision decision, IReadOnlyList<PlanningCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(candidates);
        var responders = decision.Plan.Responders;
        var ballots = new Ballot[responders.Count];
        for (var r = 0; r < responders.Count; r++)
        {
            var expert = candidates[responders[r].Candidate].Expert;
            ballots[r] = new Ballot(question.PredictionOf(_environment.Slots[expert]), responders[r].Weight);
        }

        var vote = WeightedVote.Combine(ballots);
        if (decision.Combination != AnswerCombination.Aggregator || decision.AggregatorExpert is not { } aggregator || vote.Unanimous || responders.Count < 2)
        {
            return vote.Answer;
        }

        // The aggregator reads the responders' answers; it sides with the one it would give itself, else with the vote.
        var own = question.PredictionOf(_environment.Slots[aggregator]);
        foreach (var ballot in ballots)
        {
            if (own is not null && string.Equals(ballot.Answer, own, StringComparison.Ordinal))
            {
                return own;
            }
        }

        return vote.Answer;
    }

    /// <summary>How long decisions are made (and discarded) before timing starts, so decision times are those of a warmed-up router.</summary>
    public static readonly TimeSpan DefaultWarmUp = TimeSpan.FromMilliseconds(400);

    // Decisions change no state; deciding for a while first only lets the JIT finish optimising the hot path.
    private void WarmUp(IRoutingPolicy policy, SelectionBudget budget)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 20_000 && clock.Elapsed < _warmUp; i++)
        {
            var question = _test.Questions[i % _test.Questions.Count];
            var candidates = _environment.CandidatesFor(question);
            policy.Decide(new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget, _embeddings?.TryOf(question.QuestionId)));
        }
    }

    private static bool AnyPlanFits(PlanningCandidate[] candidates, SelectionBudget budget)
    {
        foreach (var c in candidates)
        {
            if ((budget.LatencyMs is not { } l || c.LatencyMs <= l) && (budget.EnergyJoules is not { } j || c.EnergyJoules <= j))
            {
                return true;
            }
        }

        return false;
    }

}
