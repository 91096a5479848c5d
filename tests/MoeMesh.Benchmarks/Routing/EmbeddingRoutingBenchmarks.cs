using BenchmarkDotNet.Attributes;
using MoeMesh.Embeddings;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Text;

namespace MoeMesh.Benchmarks.Routing;

/// <summary>
/// Routing on sentence embeddings at N = 29 (all recorded models): embedding one test question with
/// all-MiniLM-L6-v2 on one core, and the decision once the question's features are known (gate with
/// the embedding, adaptive k, exact budgeted search), next to the plain MoE² decision as the baseline.
/// The training questions' embeddings come from the eval cache (computed on first run).
/// </summary>
[Config(typeof(RoutingDecisionBenchmarks.SingleDecisionConfig))]
[MemoryDiagnoser]
public class EmbeddingRoutingBenchmarks
{
    private readonly List<(string Stem, string Text, int PromptChars, float[] Vector)> _questions = [];
    private MiniLmTextEmbedder _embedder = null!;
    private RoutingEnvironment _environment = null!;
    private Moe2Planner _plain = null!;
    private Moe2Planner _withEmbedding = null!;
    private AdaptiveK _adaptive = null!;
    private SelectionBudget _budget = null!;
    private PlanningCandidate[] _candidates = null!;
    private int _next;

    /// <summary>Embedding alone needs only the model and the test questions' stems.</summary>
    [GlobalSetup(Target = nameof(EmbedQuestion))]
    public void SetupEmbedding()
    {
        using var stream = File.OpenRead(RoutingDecisionBenchmarks.LocateData());
        var dataset = RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
        _embedder = new MiniLmTextEmbedder(threads: 1);
        foreach (var question in DataSplit.Default.Test(dataset).Questions.Take(512))
        {
            _questions.Add((question.Question, question.PromptText, question.PromptChars, []));
        }
    }

    [GlobalSetup(Targets = [nameof(Moe2Decision), nameof(EmbeddingGateAdaptiveDecision)])]
    public void Setup()
    {
        var dataFile = RoutingDecisionBenchmarks.LocateData();
        using var stream = File.OpenRead(dataFile);
        var dataset = RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
        var train = DataSplit.Default.Train(dataset);
        var test = DataSplit.Default.Test(dataset);
        var pool = RecordedModelCatalog.AllPool;
        _embedder = new MiniLmTextEmbedder(threads: 1);
        var vectors = EmbeddingCache.LoadOrCompute(dataFile, dataset.Questions.Select(q => (q.QuestionId, q.Question)).ToArray(), _embedder);
        var embeddings = new QuestionEmbeddings(vectors, _embedder.Dimension);
        _environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), RoutingDecisionBenchmarks.Profiles(), new EvaluationOptions());
        _plain = new Moe2Planner(LogisticGateTrainer.Fit(train, pool));
        var options = new GateTrainingOptions();
        _withEmbedding = new Moe2Planner(LogisticGateTrainer.Fit(train, pool, options, null, embeddings));
        _adaptive = new AdaptiveK(0.8, 0.6, 0, 0);
        foreach (var question in test.Questions.Take(512))
        {
            _questions.Add((question.Question, question.PromptText, question.PromptChars, embeddings.Of(question.QuestionId)));
        }

        _budget = new SelectionBudget { MaxExperts = 3, LatencyMs = 20_000, EnergyJoules = 600 };
        _candidates = new PlanningCandidate[_environment.CandidateCount];
    }

    [GlobalCleanup]
    public void Cleanup() => _embedder.Dispose();

    /// <summary>Baseline: MoE² over hashed words and skills.</summary>
    [Benchmark(Baseline = true)]
    public RoutingPlan Moe2Decision()
    {
        var (_, text, chars, _) = _questions[_next++ & 511];
        _environment.Candidates(chars, _candidates);
        return _plain.Plan(new GateQuery(text), _candidates, _budget);
    }

    /// <summary>MoE² whose gate also reads the question's embedding, with adaptive k (embedding already computed).</summary>
    [Benchmark]
    public RoutingPlan EmbeddingGateAdaptiveDecision()
    {
        var (_, text, chars, vector) = _questions[_next++ & 511];
        _environment.Candidates(chars, _candidates);
        return _withEmbedding.PlanAdaptive(new GateQuery(text, null, vector), _candidates, _budget, _adaptive);
    }

    /// <summary>all-MiniLM-L6-v2 embedding of one question stem on one ONNX Runtime thread.</summary>
    [Benchmark]
    public float[] EmbedQuestion() => _embedder.Embed(_questions[_next++ & 511].Stem);
}
