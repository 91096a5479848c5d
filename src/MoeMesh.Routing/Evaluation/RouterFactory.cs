using System.Diagnostics;
using MoeMesh.Routing.Baselines;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Evaluation;

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

/// <summary>
/// Fits routers on the training split and hands them out by name. Parts several routers share (the
/// gate, the skill model, the profiles) are fitted once, on first use; the live router takes them
/// directly. Not thread-safe: fit from one thread, then share the fitted (immutable) parts. Nothing here can see a test
/// question: every fit takes the <see cref="TrainingSet"/> and the embeddings of its questions only; only the oracle is
/// given the answers.
/// </summary>
public sealed class RouterFactory
{
    private const int CrossFitFolds = 5;
    private readonly TrainingSet _train;
    private readonly RoutingEnvironment _environment;
    private readonly IProgress<string>? _progress;
    private LogisticGate? _gate;
    private LexicalSkillExtractor? _skills;
    private IReadOnlyDictionary<int, IReadOnlyList<string>>? _trainKeywords;
    private SkillRecruiter? _recruiter;
    private AggregatorChoice? _aggregator;
    private GateSelection? _selection;
    private AdaptiveK? _adaptive;

    /// <summary>
    /// Creates a factory over the training split. With <paramref name="embeddings"/> the gate may read
    /// sentence embeddings (only the training questions' vectors are kept), and with
    /// <paramref name="keywordVectors"/> (the host's embedder, applied to a keyword) Symbolic-MoE matches
    /// keywords to profile keywords by embedding similarity.
    /// </summary>
    public RouterFactory(
        TrainingSet train,
        RoutingEnvironment environment,
        IProgress<string>? progress = null,
        QuestionEmbeddings? embeddings = null,
        Func<string, float[]>? keywordVectors = null)
    {
        _train = train ?? throw new ArgumentNullException(nameof(train));
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        _progress = progress;
        if (embeddings is not null)
        {
            var ids = train.Questions.Select(q => q.QuestionId).ToHashSet();
            TrainEmbeddings = embeddings.Where(ids.Contains);
        }

        KeywordVectors = keywordVectors;
    }

    /// <summary>Embeddings of the training questions, when the host gave any.</summary>
    public QuestionEmbeddings? TrainEmbeddings { get; }

    /// <summary>The host's keyword embedder, when it gave one.</summary>
    public Func<string, float[]>? KeywordVectors { get; }

    /// <summary>The gate configuration chosen by cross-validation on the training split, once a router needed it.</summary>
    public GateSelection? GateChoice => _selection;

    /// <summary>The adaptive-k thresholds chosen on the training split, once a router needed them.</summary>
    public AdaptiveK? Adaptive => _adaptive;

    /// <summary>The aggregator chosen on the training split, once a router needed it.</summary>
    public AggregatorChoice? Aggregator => _aggregator;

    /// <summary>The trained gate, once a router needed it.</summary>
    public LogisticGate? Gate => _gate;

    /// <summary>Fits (or reuses) what router <paramref name="name"/> needs; returns it and the seconds spent fitting.</summary>
    public (IRoutingPolicy Policy, double FitSeconds) Create(string name, EvaluationSet? answersForOracle = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var stopwatch = Stopwatch.StartNew();
        IRoutingPolicy policy = name switch
        {
            RouterNames.BestSingle => BestSinglePolicy.Fit(_train, _environment.Experts),
            RouterNames.Random => new RandomPolicy(_environment.Experts, _environment.Options.Seed),
            RouterNames.Category => CategoryPolicy.Fit(_train, _environment.Experts),
            RouterNames.Oracle => new OraclePolicy(
                _environment.Experts,
                _environment.Slots,
                answersForOracle ?? throw new ArgumentNullException(nameof(answersForOracle), "the oracle needs the recorded answers of the test split")),
            RouterNames.Moe2 => new Moe2Policy(new Moe2Planner(FitGate())),
            RouterNames.Moe2Single => new Moe2Policy(new Moe2Planner(FitGate()), RouterNames.Moe2Single, maxExperts: 1),
            RouterNames.Moe2Adaptive => new AdaptiveMoe2Policy(new Moe2Planner(FitGate()), FitAdaptive(), RouterNames.Moe2Adaptive),
            RouterNames.Moe2Cascade => new CascadeMoe2Policy(new Moe2Planner(FitGate()), RouterNames.Moe2Cascade),
            RouterNames.Moe2Vote => new Moe2Policy(
                new Moe2Planner(FitGate(), SubsetObjective.VoteAccuracy, VoteCalibration.WrongAnswerCoincidence(_train, _environment.Experts)),
                RouterNames.Moe2Vote),
            RouterNames.Symbolic => new SymbolicPolicy(name, FitSkills(), FitRecruiter(), RecruitMode.TopK, _environment, null, _environment.Options.Seed),
            RouterNames.SymbolicSample => new SymbolicPolicy(name, FitSkills(), FitRecruiter(), RecruitMode.Sample, _environment, null, _environment.Options.Seed),
            RouterNames.SymbolicAggregator => new SymbolicPolicy(
                name, FitSkills(), FitRecruiter(), RecruitMode.TopK, _environment, _environment.Experts.ToList().IndexOf(FitAggregator().Expert), _environment.Options.Seed),
            _ => throw new ArgumentException($"unknown router '{name}'; use one of: {string.Join(", ", RouterNames.All)}", nameof(name)),
        };
        return (policy, stopwatch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The gate trained on the training split for the environment's pool (fitted once): with
    /// embeddings, the configuration chosen by cross-validation on the training split.
    /// </summary>
    public LogisticGate FitGate()
    {
        if (_gate is null)
        {
            if (TrainEmbeddings is null)
            {
                _gate = LogisticGateTrainer.Fit(_train, _environment.Experts, _environment.Options.Gate, _progress);
            }
            else
            {
                var chosen = SelectGate().Chosen;
                _progress?.Report($"gate: chose {chosen.Name} (held-out top-1 accuracy {chosen.Validation.TopOneAccuracy:0.000})");
                _gate = LogisticGateTrainer.Fit(_train, _environment.Experts, chosen.Options, _progress, chosen.UsesEmbeddings ? TrainEmbeddings : null);
            }
        }

        return _gate;
    }

    /// <summary>Cross-validates the gate configurations on the training split (once).</summary>
    public GateSelection SelectGate()
        => _selection ??= GateSelector.Select(_train, _environment.Experts, _environment.Options.Gate, TrainEmbeddings, _progress);

    /// <summary>Chooses the adaptive-k thresholds from the chosen gate's held-out probabilities on the training split (once).</summary>
    public AdaptiveK FitAdaptive()
        => _adaptive ??= AdaptiveK.Choose(_train, _environment.Experts, SelectGate().HeldOut, Math.Max(1, _environment.Options.K));

    /// <summary>The lexical skill extractor learned from the training split (fitted once).</summary>
    public LexicalSkillExtractor FitSkills()
    {
        if (_skills is null)
        {
            _progress?.Report("symbolic: fitting the lexical skill extractor");
            _skills = LexicalSkillExtractor.Fit(_train);
        }

        return _skills;
    }

    /// <summary>Skill profiles of the pool's experts and the recruiter over them (fitted once).</summary>
    public SkillRecruiter FitRecruiter()
    {
        if (_recruiter is not null)
        {
            return _recruiter;
        }

        // A training question's keywords come from an extractor that did not learn from it, as test keywords will.
        var keywords = new Dictionary<int, IReadOnlyList<string>>();
        for (var f = 0; f < CrossFitFolds; f++)
        {
            _progress?.Report($"symbolic: extracting training keywords, fold {f + 1} of {CrossFitFolds}");
            var extractor = LexicalSkillExtractor.Fit(_train.Subset(_train.Questions.Where(q => Fold(q.QuestionId) != f)));
            foreach (var question in _train.Questions.Where(q => Fold(q.QuestionId) == f))
            {
                keywords[question.QuestionId] = extractor.Extract(question.PromptText);
            }
        }

        _trainKeywords = keywords;
        _progress?.Report("symbolic: building expert profiles");
        var profiles = ExpertSkillProfiles.Build(_train, _environment.Experts, q => keywords[q.QuestionId]);
        IKeywordMatcher? matcher = KeywordVectors is null ? null : new EmbeddingKeywordMatcher(profiles.Keywords, KeywordVectors);
        _recruiter = new SkillRecruiter(profiles, matcher);
        return _recruiter;
    }

    /// <summary>The aggregator chosen on the training split (fitted once).</summary>
    public AggregatorChoice FitAggregator()
    {
        if (_aggregator is null)
        {
            var recruiting = FitRecruiter();
            _progress?.Report("symbolic: choosing the aggregator");
            var k = Math.Max(2, _environment.Options.K);
            _aggregator = AggregatorSelector.SelectBySimulation(
                _train,
                _environment.Experts,
                q =>
                {
                    var recruitment = recruiting.Recruit(_trainKeywords![q.QuestionId], k);
                    return recruitment.Experts
                        .Select(r => (r.Name, r.Count * WeightedVote.WeightFromProbability(recruitment.Suitability.Local[r.Expert], Math.Max(2, q.Options.Count))))
                        .ToArray();
                });
        }

        return _aggregator;
    }

    private static int Fold(int questionId) => (int)((uint)(questionId * 2654435761u) % CrossFitFolds);
}
