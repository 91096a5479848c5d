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
    private readonly List<(string Stem, string Text, int PromptChars, float[] Vector)> questions = [];
    private MiniLmTextEmbedder embedder = null!;
    private RoutingEnvironment environment = null!;
    private Moe2Planner plain = null!;
    private Moe2Planner withEmbedding = null!;
    private AdaptiveK adaptive = null!;
    private SelectionBudget budget = null!;
    private PlanningCandidate[] candidates = null!;
    private int next;

    /// <summary>Embedding alone needs only the model and the test questions' stems.</summary>
    [GlobalSetup(Target = nameof(EmbedQuestion))]
    public void SetupEmbedding()
    {
        using var stream = File.OpenRead(RoutingDecisionBenchmarks.LocateData());
        var dataset = RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
        embedder = new MiniLmTextEmbedder(threads: 1);
        foreach (var question in DataSplit.Default.Test(dataset).Questions.Take(512))
        {
            questions.Add((question.Question, question.PromptText, question.PromptChars, []));
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
        embedder = new MiniLmTextEmbedder(threads: 1);
        var vectors = EmbeddingCache.LoadOrCompute(dataFile, dataset.Questions.Select(q => (q.QuestionId, q.Question)).ToArray(), embedder);
        var embeddings = new QuestionEmbeddings(vectors, embedder.Dimension);
        environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), RoutingDecisionBenchmarks.Profiles(), new EvaluationOptions());
        plain = new Moe2Planner(LogisticGateTrainer.Fit(train, pool));
        var options = new GateTrainingOptions();
        withEmbedding = new Moe2Planner(LogisticGateTrainer.Fit(train, pool, options, null, embeddings));
        adaptive = new AdaptiveK(0.8, 0.6, 0, 0);
        foreach (var question in test.Questions.Take(512))
        {
            questions.Add((question.Question, question.PromptText, question.PromptChars, embeddings.Of(question.QuestionId)));
        }

        budget = new SelectionBudget { MaxExperts = 3, LatencyMs = 20_000, EnergyJoules = 600 };
        candidates = new PlanningCandidate[environment.CandidateCount];
    }

    [GlobalCleanup]
    public void Cleanup() => embedder.Dispose();

    /// <summary>Baseline: MoE² over hashed words and skills.</summary>
    [Benchmark(Baseline = true)]
    public RoutingPlan Moe2Decision()
    {
        var (_, text, chars, _) = questions[next++ & 511];
        environment.Candidates(chars, candidates);
        return plain.Plan(new GateQuery(text), candidates, budget);
    }

    /// <summary>MoE² whose gate also reads the question's embedding, with adaptive k (embedding already computed).</summary>
    [Benchmark]
    public RoutingPlan EmbeddingGateAdaptiveDecision()
    {
        var (_, text, chars, vector) = questions[next++ & 511];
        environment.Candidates(chars, candidates);
        return withEmbedding.PlanAdaptive(new GateQuery(text, null, vector), candidates, budget, adaptive);
    }

    /// <summary>all-MiniLM-L6-v2 embedding of one question stem on one ONNX Runtime thread.</summary>
    [Benchmark]
    public float[] EmbedQuestion() => embedder.Embed(questions[next++ & 511].Stem);
}
