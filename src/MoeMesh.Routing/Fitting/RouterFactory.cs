using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Fitting;

/// <summary>
/// Fits what routers need on the training split. Parts several routers share (the gate, the skill
/// model, the profiles) are fitted once, on first use; the live router takes them directly and the
/// evaluation builds its routers from them by name. Not thread-safe: fit from one thread, then share the fitted (immutable) parts. Nothing here can see a test
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

    /// <summary>The training split every fit reads.</summary>
    public TrainingSet Train => _train;

    /// <summary>The pool and costs the fits are for.</summary>
    public RoutingEnvironment Environment => _environment;

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
