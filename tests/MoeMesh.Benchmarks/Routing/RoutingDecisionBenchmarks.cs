using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using MoeMesh.Devices;
using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;

namespace MoeMesh.Benchmarks.Routing;

/// <summary>
/// One routing decision over all 29 recorded models with a latency and an energy budget: predict
/// every candidate's cost, score the experts, run the exact budgeted search. Each invocation is
/// one decision for the next of 512 test questions and is timed on its own, so the percentiles
/// are percentiles of single decisions.
/// </summary>
[Config(typeof(SingleDecisionConfig))]
[MemoryDiagnoser]
public class RoutingDecisionBenchmarks
{
    private readonly List<(string Text, int PromptChars)> _questions = [];
    private RoutingEnvironment _environment = null!;
    private Moe2Planner _moe2 = null!;
    private SymbolicPlanner _symbolic = null!;
    private LexicalSkillExtractor _skills = null!;
    private SelectionBudget _budget = null!;
    private PlanningCandidate[] _candidates = null!;
    private SelectionCandidate[][] _selectionInstances = null!;
    private double[] _quality = null!;
    private int _next;

    /// <summary>The most experts a plan may run.</summary>
    [Params(3, 29)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var stream = File.OpenRead(LocateData());
        var dataset = RecordedDatasetReader.Read(stream, new DatasetReadOptions { KnownModels = RecordedModelCatalog.KnownNames });
        var train = DataSplit.Default.Train(dataset);
        var test = DataSplit.Default.Test(dataset);
        var pool = RecordedModelCatalog.AllPool;
        _environment = RoutingEnvironment.Create(train, pool, DeviceAssignment.DefaultFor(pool), Profiles(), new EvaluationOptions());
        var gate = LogisticGateTrainer.Fit(train, pool);
        _moe2 = new Moe2Planner(gate);
        _skills = LexicalSkillExtractor.Fit(train);
        var profiles = ExpertSkillProfiles.Build(train, pool, q => _skills.Extract(q.PromptText));
        _symbolic = new SymbolicPlanner(_skills, new SkillRecruiter(profiles));
        foreach (var question in test.Questions.Take(512))
        {
            _questions.Add((question.PromptText, question.PromptChars));
        }

        // Budgets that bind: well under what the unconstrained top-k would cost.
        _budget = new SelectionBudget { MaxExperts = K, LatencyMs = 20_000, EnergyJoules = 600 };
        _candidates = new PlanningCandidate[_environment.CandidateCount];
        _quality = new double[pool.Count];
        var random = new Random(29);
        _selectionInstances = Enumerable.Range(0, 512).Select(_ => Enumerable.Range(0, 29)
            .Select(i => new SelectionCandidate(random.NextDouble(), 500 + (random.NextDouble() * 30_000), random.NextDouble() * 1500, random.Next(3)))
            .ToArray()).ToArray();
    }

    /// <summary>MoE²: costs of 29 candidates, gate scores, exact budgeted search, vote weights.</summary>
    [Benchmark]
    public RoutingPlan Moe2Decision()
    {
        var (text, chars) = _questions[_next++ & 511];
        _environment.Candidates(chars, _candidates);
        return _moe2.Plan(new GateQuery(text), _candidates, _budget);
    }

    /// <summary>Symbolic-MoE: costs, lexical skills, keyword matching, recruiting, budgeted search.</summary>
    [Benchmark]
    public SymbolicPlan SymbolicDecision()
    {
        var (text, chars) = _questions[_next++ & 511];
        _environment.Candidates(chars, _candidates);
        return _symbolic.Plan(_skills.Extract(text), _candidates, _budget);
    }

    /// <summary>The exact budgeted search alone, 29 random candidates on 3 devices.</summary>
    [Benchmark]
    public SubsetSelection SubsetSearchOnly()
        => BudgetedSubsetSelector.Select(_selectionInstances[_next++ & 511], _budget);

    /// <summary>Gate scoring alone (featurise the text, 29 logistic scores).</summary>
    [Benchmark]
    public double GateOnly()
    {
        _moe2.Gate.Estimate(new GateQuery(_questions[_next++ & 511].Text), _quality);
        return _quality[0];
    }

    internal static string LocateData()
    {
        var relative = Path.Combine("shared", "data", "mmlu-pro-29", "mmlu_pro_29_models.jsonl.gz");
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException($"the routing benchmarks need the recorded outputs ('{relative}' next to the repository)");
    }

    internal static Dictionary<string, DeviceProfile> Profiles() => new()
    {
        [DeviceAssignment.JetsonId] = new()
        {
            Name = "Jetson AGX Orin 64GB", Kind = DeviceKind.Jetson, MemoryBytes = 68_719_476_736,
            MemoryBandwidthGBps = 204.8, Fp16Tflops = 42, IdlePowerWatts = 15, MaxPowerWatts = 60,
        },
        [DeviceAssignment.Rtx4090Id] = new()
        {
            Name = "RTX 4090 desktop", Kind = DeviceKind.DesktopGpu, MemoryBytes = 25_769_803_776,
            MemoryBandwidthGBps = 1008, Fp16Tflops = 165, IdlePowerWatts = 25, MaxPowerWatts = 450,
        },
    };

    /// <summary>Times every decision on its own (one invocation per iteration) and shows P95, P99 and the maximum.</summary>
    internal sealed class SingleDecisionConfig : ManualConfig
    {
        public SingleDecisionConfig()
        {
            AddJob(Job.Default
                .WithStrategy(RunStrategy.Throughput)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithWarmupCount(300)
                .WithIterationCount(2000)
                .WithId("single-decision"));
            AddColumn(StatisticColumn.Median, StatisticColumn.P95, new PercentileColumn(99), StatisticColumn.Max);
            WithOptions(ConfigOptions.DisableOptimizationsValidator);
        }
    }
}
