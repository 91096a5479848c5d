using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Evaluation.Runs;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Tests.Support;

namespace MoeMesh.Evaluation.Tests.Runs;

/// <summary>Routers fitted once on the training split of the edge pool, with the default device assignment.</summary>
public sealed class EdgePoolFixture
{
    public EdgePoolFixture()
    {
        Data = new RecordedDataFixture();
        var pool = RecordedModelCatalog.EdgePool;
        Environment = RoutingEnvironment.Create(Data.Train, pool, DeviceAssignment.DefaultFor(pool), TestProfiles.Edge, new EvaluationOptions());
        var factory = new RouterFactory(Data.Train, Environment);
        Moe2 = factory.Create(RouterNames.Moe2).Policy;
        Symbolic = factory.Create(RouterNames.Symbolic).Policy;
        SymbolicSample = factory.Create(RouterNames.SymbolicSample).Policy;
        BestSingle = factory.Create(RouterNames.BestSingle).Policy;
        Evaluator = new RoutingEvaluator(Environment, Data.Test, warmUp: TimeSpan.Zero);
        BestSingleReport = Evaluator.Run(BestSingle, new SelectionBudget { MaxExperts = 1 });
    }

    public RecordedDataFixture Data { get; }

    public RoutingEnvironment Environment { get; }

    public RoutingEvaluator Evaluator { get; }

    public IRoutingPolicy Moe2 { get; }

    public IRoutingPolicy Symbolic { get; }

    public IRoutingPolicy SymbolicSample { get; }

    public IRoutingPolicy BestSingle { get; }

    public RouterReport BestSingleReport { get; }
}

/// <summary>The goals on the edge pool's test split, kept as regression checks.</summary>
public sealed class EdgePoolGoalsTests(EdgePoolFixture edge) : IClassFixture<EdgePoolFixture>
{
    [Fact]
    public void The_best_single_expert_is_the_readme_reference()
    {
        Assert.Equal(0.428, edge.BestSingleReport.Accuracy, 3);
    }

    [Fact]
    public void Moe2_with_one_expert_beats_the_best_single_expert_by_four_points()
    {
        var report = edge.Evaluator.Run(edge.Moe2, new SelectionBudget { MaxExperts = 1 });
        Assert.True(report.Accuracy >= edge.BestSingleReport.Accuracy + 0.04, $"k = 1 accuracy {report.Accuracy:0.000}");
    }

    [Fact]
    public void Moe2_with_a_gate_weighted_vote_of_three_reaches_half()
    {
        var report = edge.Evaluator.Run(edge.Moe2, new SelectionBudget { MaxExperts = 3 });
        Assert.True(report.Accuracy >= 0.50, $"k = 3 accuracy {report.Accuracy:0.000}");
    }

    [Fact]
    public void Half_the_best_single_experts_energy_still_matches_its_accuracy()
    {
        var budget = new SelectionBudget { MaxExperts = 3, EnergyJoules = edge.BestSingleReport.MeanEnergyJoules / 2 };
        var report = edge.Evaluator.Run(edge.Moe2, budget);
        Assert.True(report.Accuracy >= edge.BestSingleReport.Accuracy, $"accuracy {report.Accuracy:0.000} at {budget.EnergyJoules:0} J");
        Assert.Equal(0, report.Violations);
        Assert.True(report.MeanEnergyJoules <= budget.EnergyJoules);
    }

    [Theory]
    [InlineData(1, 3000.0, null)]
    [InlineData(3, 15000.0, 900.0)]
    [InlineData(3, null, 150.0)]
    [InlineData(2, 2500.0, 300.0)]
    [InlineData(3, 50.0, 50.0)]
    public void Budget_aware_routers_never_plan_over_a_budget_that_some_plan_meets(int k, double? latencyMs, double? energyJoules)
    {
        var budget = new SelectionBudget { MaxExperts = k, LatencyMs = latencyMs, EnergyJoules = energyJoules };
        foreach (var policy in new[] { edge.Moe2, edge.Symbolic, edge.SymbolicSample })
        {
            var report = edge.Evaluator.Run(policy, budget);
            Assert.Equal(0, report.Violations);
            Assert.Equal(report.InfeasibleShare, report.OverBudgetShare, 9);
        }
    }
}
