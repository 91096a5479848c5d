using System.Diagnostics;
using MoeMesh.Evaluation.Baselines;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;

namespace MoeMesh.Evaluation.Policies;

/// <summary>The routers an evaluation can run, by name.</summary>
public static class RouterNames
{
    /// <summary>The best single expert on the training split.</summary>
    public const string BestSingle = "best-single";

    /// <summary>k random experts, equal vote.</summary>
    public const string Random = "random";

    /// <summary>The k best experts of the recorded category on the training split.</summary>
    public const string Category = "category";

    /// <summary>An expert known to be right (upper bound).</summary>
    public const string Oracle = "oracle";

    /// <summary>MoE²: trained gate, exact budgeted subset, gate-weighted vote.</summary>
    public const string Moe2 = "moe2";

    /// <summary>MoE² whose exact search maximises the expected accuracy of the weighted vote itself (dynamic k).</summary>
    public const string Moe2Vote = "moe2-vote";

    /// <summary>MoE² with one expert per query (the gate's best affordable expert).</summary>
    public const string Moe2Single = "moe2-k1";

    /// <summary>MoE² with k per query from the gate's confidence, thresholds chosen on the training split.</summary>
    public const string Moe2Adaptive = "moe2-adaptive";

    /// <summary>MoE² as a cascade: the two cheapest chosen experts first, the rest only when they disagree.</summary>
    public const string Moe2Cascade = "moe2-cascade";

    /// <summary>Symbolic-MoE with deterministic top-k recruiting and a competence-weighted vote.</summary>
    public const string Symbolic = "symbolic";

    /// <summary>Symbolic-MoE with the paper's sampled recruiting (temperature 0.5, with replacement).</summary>
    public const string SymbolicSample = "symbolic-sample";

    /// <summary>Symbolic-MoE with top-k recruiting and the aggregator chosen on the training split.</summary>
    public const string SymbolicAggregator = "symbolic-agg";

    /// <summary>Every router, in report order.</summary>
    public static IReadOnlyList<string> All { get; } = [BestSingle, Random, Category, Oracle, Moe2Single, Moe2, Moe2Vote, Moe2Adaptive, Moe2Cascade, Symbolic, SymbolicSample, SymbolicAggregator];

    /// <summary>Routers that keep plans inside the budgets (the ones an energy sweep compares).</summary>
    public static IReadOnlyList<string> BudgetAware { get; } = [Moe2Single, Moe2, Moe2Vote, Moe2Adaptive, Moe2Cascade, Symbolic, SymbolicAggregator];

    /// <summary>Resolves "all" or a comma-separated list; throws naming the unknown names.</summary>
    public static IReadOnlyList<string> Resolve(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec) || spec.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return All;
        }

        var names = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        var unknown = names.Where(n => !All.Contains(n)).ToArray();
        return unknown.Length > 0
            ? throw new ArgumentException($"unknown router{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; use all or any of: {string.Join(", ", All)}")
            : names;
    }
}

/// <summary>Builds an evaluation's routers by name from the parts a <see cref="RouterFactory"/> fits.</summary>
public static class RouterPolicies
{
    /// <summary>Fits (or reuses) what router <paramref name="name"/> needs; returns it and the seconds spent fitting.</summary>
    public static (IRoutingPolicy Policy, double FitSeconds) Create(this RouterFactory factory, string name, EvaluationSet? answersForOracle = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(name);
        var train = factory.Train;
        var environment = factory.Environment;
        var stopwatch = Stopwatch.StartNew();
        IRoutingPolicy policy = name switch
        {
            RouterNames.BestSingle => BestSinglePolicy.Fit(train, environment.Experts),
            RouterNames.Random => new RandomPolicy(environment.Experts, environment.Options.Seed),
            RouterNames.Category => CategoryPolicy.Fit(train, environment.Experts),
            RouterNames.Oracle => new OraclePolicy(
                environment.Experts,
                environment.Slots,
                answersForOracle ?? throw new ArgumentNullException(nameof(answersForOracle), "the oracle needs the recorded answers of the test split")),
            RouterNames.Moe2 => new Moe2Policy(new Moe2Planner(factory.FitGate())),
            RouterNames.Moe2Single => new Moe2Policy(new Moe2Planner(factory.FitGate()), RouterNames.Moe2Single, maxExperts: 1),
            RouterNames.Moe2Adaptive => new AdaptiveMoe2Policy(new Moe2Planner(factory.FitGate()), factory.FitAdaptive(), RouterNames.Moe2Adaptive),
            RouterNames.Moe2Cascade => new CascadeMoe2Policy(new Moe2Planner(factory.FitGate()), RouterNames.Moe2Cascade),
            RouterNames.Moe2Vote => new Moe2Policy(
                new Moe2Planner(factory.FitGate(), SubsetObjective.VoteAccuracy, VoteCalibration.WrongAnswerCoincidence(train, environment.Experts)),
                RouterNames.Moe2Vote),
            RouterNames.Symbolic => new SymbolicPolicy(name, factory.FitSkills(), factory.FitRecruiter(), RecruitMode.TopK, environment, null, environment.Options.Seed),
            RouterNames.SymbolicSample => new SymbolicPolicy(name, factory.FitSkills(), factory.FitRecruiter(), RecruitMode.Sample, environment, null, environment.Options.Seed),
            RouterNames.SymbolicAggregator => new SymbolicPolicy(
                name, factory.FitSkills(), factory.FitRecruiter(), RecruitMode.TopK, environment, environment.Experts.ToList().IndexOf(factory.FitAggregator().Expert), environment.Options.Seed),
            _ => throw new ArgumentException($"unknown router '{name}'; use one of: {string.Join(", ", RouterNames.All)}", nameof(name)),
        };
        return (policy, stopwatch.Elapsed.TotalSeconds);
    }
}
