using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing;
using MoeMesh.Grains.Routing.Planning;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Embeddings;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Grains.Tests.Routing.Planning;

/// <summary>
/// With training data, the live planner decides what <c>moemesh eval</c> decides for the same pool,
/// devices and budgets, question by question: the mesh's accuracy is the evaluation's.
/// </summary>
public sealed class RecordedRoutingEquivalenceTests
{
    private static readonly Lazy<Setup> Shared = new(() => new Setup());

    [Theory]
    [InlineData(3, null)]
    [InlineData(1, null)]
    [InlineData(3, 270.7)]
    public async Task Live_moe2_plans_match_the_evaluation(int k, double? energyBudget)
    {
        var setup = Shared.Value;
        var budget = new SelectionBudget { MaxExperts = k, EnergyJoules = energyBudget };
        var policy = new Moe2Policy(new Moe2Planner(setup.Factory.FitGate()));
        var compared = 0;
        foreach (var question in setup.Test.Questions.Take(150))
        {
            var candidates = setup.Environment.CandidatesFor(question);
            var expected = policy.Decide(new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget))
                .Plan.Responders.Select(r => r.ExpertId).ToList();

            var query = new Query
            {
                Messages = [ChatTurn.User(question.Question)],
                Choices = question.Options,
                Options = new QueryOptions { Strategy = RoutingStrategy.Moe2, K = k, EnergyBudgetJoules = energyBudget },
            };
            var plan = await setup.Planner.PlanAsync(query, setup.Catalog);
            var actual = plan.Steps.Where(s => s.Role == ExpertRole.Responder).Select(s => setup.RecordedOf[s.ExpertId]).ToList();

            Assert.True(expected.SequenceEqual(actual), $"question {question.QuestionId}: eval chose [{string.Join(", ", expected)}], the mesh [{string.Join(", ", actual)}]");
            compared++;
        }

        Assert.Equal(150, compared);
    }

    [Fact]
    public async Task Live_symbolic_plans_match_the_evaluation_with_its_aggregator()
    {
        var setup = Shared.Value;
        var budget = new SelectionBudget { MaxExperts = 3 };
        var (policy, _) = setup.Factory.Create(RouterNames.SymbolicAggregator);
        var aggregator = setup.Factory.FitAggregator().Expert;
        foreach (var question in setup.Test.Questions.Take(150))
        {
            var candidates = setup.Environment.CandidatesFor(question);
            var decision = policy.Decide(new RoutingQuery(question.QuestionId, question.PromptText, question.Category, question.PromptChars, question.Options.Count, candidates, budget));
            var expected = decision.Plan.Responders.Select(r => r.ExpertId).ToList();

            var plan = await setup.Planner.PlanAsync(
                new Query { Messages = [ChatTurn.User(question.Question)], Choices = question.Options, Options = new QueryOptions { Strategy = RoutingStrategy.Symbolic, K = 3 } },
                setup.Catalog);

            var actual = plan.Steps.Where(s => s.Role == ExpertRole.Responder).Select(s => setup.RecordedOf[s.ExpertId]).ToList();
            Assert.True(expected.SequenceEqual(actual), $"question {question.QuestionId}: eval chose [{string.Join(", ", expected)}], the mesh [{string.Join(", ", actual)}]");
            var step = plan.Steps.SingleOrDefault(s => s.Role == ExpertRole.Aggregator);
            Assert.Equal(decision.Plan.Aggregator is not null, step is not null);
            if (step is not null)
            {
                Assert.Equal(aggregator, setup.RecordedOf[step.ExpertId]);
            }
        }
    }

    /// <summary>
    /// Planning is on every query's path and runs at hundreds of queries a second: what it allocates
    /// becomes collections that pause queries in flight. The bench's query (strategy auto, one
    /// expert, the recorded pool) is planned without waiting on anything once the pool is fitted,
    /// so the planning thread's allocation counter measures one plan exactly.
    /// </summary>
    [Fact]
    public async Task Planning_a_recorded_query_allocates_a_bounded_amount()
    {
        var setup = Shared.Value;
        var queries = setup.Test.Questions.Take(120)
            .Select(q => new Query { Messages = [ChatTurn.User(q.Question)], Choices = q.Options, Options = new QueryOptions { Strategy = RoutingStrategy.Auto } })
            .ToList();
        foreach (var query in queries.Take(20))
        {
            await setup.Planner.PlanAsync(query, setup.Catalog);
        }

        long total = 0;
        foreach (var query in queries.Skip(20))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var planning = setup.Planner.PlanAsync(query, setup.Catalog);
            var after = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(planning.IsCompletedSuccessfully, "a plan for a fitted pool is made without waiting");
            total += after - before;
        }

        var perPlan = total / (queries.Count - 20);
        Assert.True(perPlan <= MaxBytesPerPlan, $"one plan allocated {perPlan} bytes on average; the bound is {MaxBytesPerPlan}");
    }

    /// <summary>What one plan of the bench's query may allocate (about 25 KB measured; 30 KB when the skill probabilities were worked out twice).</summary>
    private const long MaxBytesPerPlan = 28_000;

    [Fact]
    public async Task A_planner_loading_the_eval_fit_file_plans_as_the_fitted_routers_do()
    {
        var setup = Shared.Value;
        var fitFile = Path.Combine(Path.GetTempPath(), $"moemesh-{Guid.NewGuid():N}.fit");
        try
        {
            RoutingFit.From(setup.Factory, EmbeddingCache.HashFile(setup.DataFile), null).Save(fitFile);
            var options = Options.Create(new RouterOptions { TrainingData = setup.DataFile, FitFile = fitFile });
            var loaded = new MeshRoutingPlanner(new RecordedKnowledge(options, NullLogger<RecordedKnowledge>.Instance), new LiveCostModel(), options);
            foreach (var question in setup.Test.Questions.Take(60))
            {
                foreach (var strategy in new[] { RoutingStrategy.Moe2, RoutingStrategy.Symbolic })
                {
                    var query = new Query { Messages = [ChatTurn.User(question.Question)], Choices = question.Options, Options = new QueryOptions { Strategy = strategy, K = 3 } };
                    var fitted = await setup.Planner.PlanAsync(query, setup.Catalog);
                    var fromFile = await loaded.PlanAsync(query, setup.Catalog);
                    Assert.Equal(fitted.Steps.Select(s => (s.ExpertId, s.Role)), fromFile.Steps.Select(s => (s.ExpertId, s.Role)));
                }
            }

            // A fit of another data file is refused with a clear error.
            RoutingFit.From(setup.Factory, "ffffffffffffffff", null).Save(fitFile);
            var foreign = Options.Create(new RouterOptions { TrainingData = setup.DataFile, FitFile = fitFile });
            var refused = new MeshRoutingPlanner(new RecordedKnowledge(foreign, NullLogger<RecordedKnowledge>.Instance), new LiveCostModel(), foreign);
            var error = await Assert.ThrowsAsync<MoeMeshConfigurationException>(async () => await refused.PlanAsync(
                new Query { Messages = [ChatTurn.User("What is 2 + 2?")], Choices = ["3", "4"], Options = new QueryOptions { Strategy = RoutingStrategy.Moe2, K = 1 } },
                setup.Catalog));
            Assert.Contains("another data file", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(fitFile);
        }
    }

    private sealed class Setup
    {
        public Setup()
        {
            var file = Locate();
            DataFile = file;
            using (var stream = File.OpenRead(file))
            {
                var dataset = RecordedDatasetReader.Read(stream);
                Train = DataSplit.Default.Train(dataset);
                Test = DataSplit.Default.Test(dataset);
            }

            var pool = RecordedModelCatalog.EdgePool;
            var assignment = DeviceAssignment.DefaultFor(pool);
            var profiles = new Dictionary<string, DeviceProfile>
            {
                [DeviceAssignment.JetsonId] = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = DeviceAssignment.JetsonId }),
                [DeviceAssignment.Rtx4090Id] = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = DeviceAssignment.Rtx4090Id }),
            };
            Environment = RoutingEnvironment.Create(Train, pool, assignment, profiles, new EvaluationOptions());
            Factory = new RouterFactory(Train, Environment);

            // The same pool as live experts: one manifest per recorded model, pinned to its device's kind, all loaded.
            var manifests = pool.Select(name =>
            {
                var device = assignment.DevicesOf(name).Single();
                RecordedModelCatalog.TryGet(name, out var model);
                return model!.ToManifest("Q4_K_M") with
                {
                    Id = "x-" + name.ToLowerInvariant().Replace('_', '-'),
                    Engine = ExpertEngines.Replay,
                    RecordedModel = name,
                    Placement = new PlacementConstraints { DeviceKinds = [profiles[device].Kind] },
                };
            }).ToList();
            RecordedOf = manifests.ToDictionary(m => m.Id, m => m.RecordedModel!);
            var silos = profiles.Select(p => new SiloInfo
            {
                Silo = p.Key + "-silo",
                Device = p.Value,
                State = SiloState.Active,
                HostableExperts = manifests.Select(m => m.Id).ToList(),
                ModelMemoryBudgetBytes = p.Value.MemoryBytes,
            }).ToList();
            Catalog = new CatalogSnapshot
            {
                Silos = silos,
                Experts = manifests,
                Replicas = manifests.Select(m => new ReplicaStatus
                {
                    Replica = new ExpertReplica(m.Id, 0),
                    Silo = silos.Single(s => m.Placement.AllowsKind(s.Device.Kind)).Silo,
                    State = ReplicaState.Ready,
                }).ToList(),
            };
            var options = Options.Create(new RouterOptions { TrainingData = file });
            Planner = new MeshRoutingPlanner(new RecordedKnowledge(options, NullLogger<RecordedKnowledge>.Instance), new LiveCostModel(), options);
        }

        public string DataFile { get; }

        public TrainingSet Train { get; }

        public EvaluationSet Test { get; }

        public RoutingEnvironment Environment { get; }

        public RouterFactory Factory { get; }

        public CatalogSnapshot Catalog { get; }

        public Dictionary<string, string> RecordedOf { get; }

        public MeshRoutingPlanner Planner { get; }

        private static string Locate()
        {
            var relative = Path.Combine("shared", "data", "mmlu-pro-29", "mmlu_pro_29_models.jsonl.gz");
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException($"The recorded outputs were not found: no '{relative}' above '{AppContext.BaseDirectory}'; these tests need the shared data folder next to the repository.");
        }
    }
}
