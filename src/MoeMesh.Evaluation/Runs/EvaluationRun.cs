using MoeMesh.Routing.Fitting;
using MoeMesh.Devices;
using MoeMesh.Evaluation.Baselines;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Text;

namespace MoeMesh.Evaluation.Runs;

/// <summary>One point of an energy-budget sweep.</summary>
/// <param name="Router">The router.</param>
/// <param name="BudgetFraction">The energy budget as a share of the best single expert's mean energy.</param>
/// <param name="EnergyBudgetJoules">The energy budget per query.</param>
/// <param name="Accuracy">Share answered right.</param>
/// <param name="MeanEnergyJoules">Mean predicted energy per query.</param>
/// <param name="OverBudgetShare">Share of queries whose plan is over a budget.</param>
/// <param name="InfeasibleShare">Share of queries no plan could serve within the budgets.</param>
public sealed record SweepPoint(string Router, double BudgetFraction, double EnergyBudgetJoules, double Accuracy, double MeanEnergyJoules, double OverBudgetShare, double InfeasibleShare);

/// <summary>How many questions each side of the split has.</summary>
public sealed record SplitSizes(int Train, int Test);

/// <summary>The sweep's reference: the best single expert on the training split and its mean predicted energy on the test split.</summary>
public sealed record ReferenceExpert(string Expert, double MeanEnergyJoules, double Accuracy);

/// <summary>Model loads a router's plans need when queued questions are served in batch windows.</summary>
/// <param name="Router">The router whose recruits were batched.</param>
/// <param name="Window">Questions per batch window.</param>
/// <param name="Windows">Windows over the test split.</param>
/// <param name="ModelLoads">Loads with each model loaded once per window.</param>
/// <param name="NaiveModelLoads">Loads when questions are served one by one, reloading whenever a device's model changes.</param>
public sealed record BatchingReport(string Router, int Window, int Windows, int ModelLoads, int NaiveModelLoads);

/// <summary>Everything an evaluation produced.</summary>
public sealed record EvaluationResult
{
    /// <summary>The pool's experts.</summary>
    public required IReadOnlyList<string> Pool { get; init; }

    /// <summary>The device assignment used, in <c>device:expert,…;…</c> form.</summary>
    public required string Devices { get; init; }

    /// <summary>k, budgets and assumptions.</summary>
    public required EvaluationOptions Options { get; init; }

    /// <summary>Training and test question counts.</summary>
    public required SplitSizes Split { get; init; }

    /// <summary>One report per router, in the order asked.</summary>
    public required IReadOnlyList<RouterReport> Routers { get; init; }

    /// <summary>The best single expert on the training split, its mean predicted energy and accuracy on the test split (the sweep's reference).</summary>
    public required ReferenceExpert Reference { get; init; }

    /// <summary>Accuracy against energy budgets, when a sweep was asked for.</summary>
    public IReadOnlyList<SweepPoint> Sweep { get; init; } = [];

    /// <summary>The aggregator chosen on the training split, when a router used one.</summary>
    public string? Aggregator { get; init; }

    /// <summary>Model loads of batch windows, for the Symbolic-MoE routers that ran.</summary>
    public IReadOnlyList<BatchingReport> Batching { get; init; } = [];

    /// <summary>Output tokens assumed per expert.</summary>
    public required IReadOnlyDictionary<string, int> OutputTokens { get; init; }

    /// <summary>The gate configurations cross-validated on the training split and the one chosen, when a MoE² router ran.</summary>
    public GateChoiceReport? Gate { get; init; }

    /// <summary>The adaptive-k thresholds chosen on the training split, when the adaptive router ran.</summary>
    public AdaptiveK? Adaptive { get; init; }

    /// <summary>The sentence-embedding model whose vectors the routers read, if any.</summary>
    public string? EmbeddingModel { get; init; }

    /// <summary>Things worth a look: unknown models in the data, experts assigned outside the pool.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The gate chosen by cross-validation on the training split.</summary>
/// <param name="Chosen">Name of the chosen configuration.</param>
/// <param name="Candidates">Every configuration with its held-out top-1 accuracy and log loss.</param>
public sealed record GateChoiceReport(string Chosen, IReadOnlyList<GateCandidateReport> Candidates);

/// <summary>One gate configuration's held-out quality.</summary>
public sealed record GateCandidateReport(string Name, bool UsesEmbeddings, double TopOneAccuracy, double LogLoss, int Folds);

/// <summary>What an evaluation reads besides the recorded answers: sentence embeddings of the questions and of keywords.</summary>
/// <param name="Model">The embedding model's id.</param>
/// <param name="Questions">Embeddings of the recorded questions.</param>
/// <param name="Keywords">The embedder applied to a keyword (for Symbolic-MoE's keyword matching); null to match by spelling.</param>
public sealed record EvaluationEmbeddings(string Model, QuestionEmbeddings Questions, Func<string, float[]>? Keywords);

/// <summary>
/// Runs a whole evaluation: split the recorded data, fit every asked router on the training split,
/// route the test split, and optionally sweep energy budgets.
/// </summary>
public static class EvaluationRun
{
    /// <summary>Budget fractions of the default sweep (shares of the best single expert's mean energy).</summary>
    public static IReadOnlyList<double> DefaultSweep { get; } = [0.25, 0.35, 0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0];

    /// <summary>Questions per batch window in the batching report.</summary>
    public const int BatchWindow = 64;

    /// <summary>Runs the evaluation; throws <see cref="ArgumentException"/> with every problem in the setup.</summary>
    public static EvaluationResult Execute(
        RecordedDataset dataset,
        IReadOnlyList<string> pool,
        DeviceAssignment assignment,
        IReadOnlyDictionary<string, DeviceProfile> profiles,
        IReadOnlyList<string> routers,
        EvaluationOptions options,
        IReadOnlyList<double>? sweepFractions = null,
        IProgress<string>? progress = null,
        EvaluationEmbeddings? embeddings = null,
        Action<RouterFactory>? fitted = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(routers);
        var split = DataSplit.Default;
        var train = split.Train(dataset);
        var test = split.Test(dataset);
        var environment = RoutingEnvironment.Create(train, pool, assignment, profiles, options);
        var factory = new RouterFactory(train, environment, progress, embeddings?.Questions, embeddings?.Keywords);
        var evaluator = new RoutingEvaluator(environment, test, embeddings: embeddings?.Questions);
        var warnings = Warnings(dataset, pool, assignment);
        var (reports, batching, policies) = RouteTestSplit(routers, factory, evaluator, environment, test, assignment, progress);

        // The sweep's reference: the best single expert, unconstrained.
        var best = BestSinglePolicy.Fit(train, environment.Experts);
        var referenceRun = evaluator.Run(best, new SelectionBudget { MaxExperts = 1 });
        var referenceEnergy = referenceRun.MeanEnergyJoules;
        var sweep = sweepFractions is { Count: > 0 }
            ? SweepEnergyBudgets(routers, policies, factory, evaluator, test, sweepFractions, referenceEnergy, progress)
            : [];

        fitted?.Invoke(factory);
        return new EvaluationResult
        {
            Gate = GateReport(factory),
            Adaptive = factory.Adaptive,
            EmbeddingModel = embeddings?.Model,
            Pool = environment.Experts,
            Devices = assignment.ToString(),
            Options = options,
            Split = new SplitSizes(train.Questions.Count, test.Questions.Count),
            Routers = reports,
            Reference = new ReferenceExpert(best.ExpertName, referenceEnergy, referenceRun.Accuracy),
            Sweep = sweep,
            Aggregator = factory.Aggregator?.Expert,
            Batching = batching,
            OutputTokens = environment.Experts.Select((e, i) => (e, i)).ToDictionary(p => p.e, p => environment.OutputTokens(p.i), StringComparer.Ordinal),
            Warnings = warnings,
        };
    }

    /// <summary>The data's own warnings, and experts given a device but left out of the pool.</summary>
    private static List<string> Warnings(RecordedDataset dataset, IReadOnlyList<string> pool, DeviceAssignment assignment)
    {
        var warnings = new List<string>(dataset.Report.Warnings);
        var outside = assignment.OutsidePool(pool);
        if (outside.Count > 0)
        {
            warnings.Add($"{string.Join(", ", outside)} {(outside.Count == 1 ? "has" : "have")} a device but {(outside.Count == 1 ? "is" : "are")} not in the pool; left out");
        }

        return warnings;
    }

    /// <summary>Fits every asked router and routes the test split with it; Symbolic-MoE routers also get a batching report.</summary>
    private static (List<RouterReport> Reports, List<BatchingReport> Batching, Dictionary<string, IRoutingPolicy> Policies) RouteTestSplit(
        IReadOnlyList<string> routers,
        RouterFactory factory,
        RoutingEvaluator evaluator,
        RoutingEnvironment environment,
        EvaluationSet test,
        DeviceAssignment assignment,
        IProgress<string>? progress)
    {
        var reports = new List<RouterReport>();
        var batching = new List<BatchingReport>();
        var policies = new Dictionary<string, IRoutingPolicy>(StringComparer.Ordinal);
        foreach (var name in routers)
        {
            progress?.Report($"fitting {name}");
            var (policy, seconds) = factory.Create(name, name == RouterNames.Oracle ? test : null);
            policies[name] = policy;
            progress?.Report($"routing {test.Questions.Count} test questions with {name}");

            // Fitting leaves large buffers behind; collect them now rather than in the middle of timed decisions.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var queued = new List<Batching.QueuedQuery>();
            reports.Add(evaluator.Run(policy, fitSeconds: seconds, observe: (question, decision, candidates) =>
            {
                var experts = decision.Plan.Responders.Select(r => environment.Experts[candidates[r.Candidate].Expert]).ToList();
                if (decision.AggregatorExpert is { } aggregator)
                {
                    experts.Add(environment.Experts[aggregator]);
                }

                queued.Add(new Batching.QueuedQuery(question.QuestionId.ToString(System.Globalization.CultureInfo.InvariantCulture), experts));
            }));
            if (name.StartsWith(RouterNames.Symbolic, StringComparison.Ordinal))
            {
                batching.Add(Batch(name, queued, assignment));
            }
        }

        return (reports, batching, policies);
    }

    /// <summary>Accuracy of every budget-aware router (and the oracle) at energy budgets that are shares of the reference's energy.</summary>
    private static List<SweepPoint> SweepEnergyBudgets(
        IReadOnlyList<string> routers,
        Dictionary<string, IRoutingPolicy> policies,
        RouterFactory factory,
        RoutingEvaluator evaluator,
        EvaluationSet test,
        IReadOnlyList<double> sweepFractions,
        double referenceEnergy,
        IProgress<string>? progress)
    {
        var sweep = new List<SweepPoint>();
        foreach (var name in routers.Where(RouterNames.BudgetAware.Contains).Append(RouterNames.Oracle).Distinct())
        {
            if (!policies.TryGetValue(name, out var policy))
            {
                if (name != RouterNames.Oracle)
                {
                    continue;
                }

                policy = factory.Create(name, test).Policy;
            }

            foreach (var fraction in sweepFractions)
            {
                progress?.Report($"sweep: {name} at {fraction:0.##} × the best single expert's energy");
                var budget = evaluator.DefaultBudget with { EnergyJoules = fraction * referenceEnergy };
                var report = evaluator.Run(policy, budget);
                sweep.Add(new SweepPoint(name, fraction, fraction * referenceEnergy, report.Accuracy, report.MeanEnergyJoules, report.OverBudgetShare, report.InfeasibleShare));
            }
        }

        return sweep;
    }

    private static GateChoiceReport? GateReport(RouterFactory factory)
        => factory.GateChoice is { } choice
            ? new GateChoiceReport(
                choice.Chosen.Name,
                choice.Candidates.Select(c => new GateCandidateReport(c.Name, c.UsesEmbeddings, c.Validation.TopOneAccuracy, c.Validation.LogLoss, c.Validation.Folds)).ToArray())
            : null;

    private static BatchingReport Batch(string router, List<Batching.QueuedQuery> queued, DeviceAssignment assignment)
    {
        var loads = 0;
        var naive = 0;
        var windows = 0;
        string? DeviceOf(string expert) => assignment.DevicesOf(expert).FirstOrDefault();
        for (var start = 0; start < queued.Count; start += BatchWindow)
        {
            var schedule = Batching.BatchPlanner.Plan(queued.GetRange(start, Math.Min(BatchWindow, queued.Count - start)), DeviceOf);
            loads += schedule.ModelLoads;
            naive += schedule.NaiveModelLoads;
            windows++;
        }

        return new BatchingReport(router, BatchWindow, windows, loads, naive);
    }
}
