using MoeMesh.Queries;
using MoeMesh.Routing.Selection;

namespace MoeMesh.Routing.Tests.Selection;

public sealed class RoutingPlanTests
{
    private static readonly string[] Experts = ["recorded-a", "recorded-b"];

    private static readonly PlanningCandidate[] Candidates = [new(0, 0, 900, 40), new(1, 1, 300, 15), new(0, 1, 700, 30)];

    private static readonly MeshPlacement[] Placements =
    [
        new("mesh-a", "silo-orin", "Jetson AGX Orin", 0, Resident: true),
        new("mesh-b", "silo-4090", "RTX 4090", 2, Resident: true),
        new("mesh-a", "silo-4090", "RTX 4090", 1, Resident: false),
    ];

    private static RoutingPlan Plan(bool feasible = true) => new()
    {
        Feasible = feasible,
        Binding = feasible ? BindingBudget.None : BindingBudget.Energy,
        Responders = [new PlannedResponder(1, 1, "recorded-b", 0.8, 1.5), new PlannedResponder(2, 0, "recorded-a", 0.6, 0.7)],
        Aggregator = 0,
        LatencyMs = 1200,
        EnergyJoules = 60,
        ExpertQuality = [0.6, 0.8],
        Rationale = "the gate's best pair",
    };

    private static QueryPlanContext Context() => new()
    {
        QueryId = "q7",
        Strategy = RoutingStrategy.Symbolic,
        Experts = Experts,
        Candidates = Candidates,
        Placements = Placements,
        Budget = new SelectionBudget { LatencyMs = 2000, EnergyJoules = 100 },
        Skills = ["algebra"],
        Aggregator = Candidates[0] with { LatencyMs = 500, EnergyJoules = 20 },
        AggregatorPlacement = Placements[0],
        Basis = "Trained gate",
        RouterSilo = "silo-orin",
        DecisionMs = 0.4,
    };

    [Fact]
    public void The_plan_comes_out_complete_with_every_step_on_its_silo_and_replica()
    {
        var plan = Plan().ToQueryPlan(Context());

        Assert.Equal("q7", plan.QueryId);
        Assert.Equal("silo-orin", plan.RouterSilo);
        Assert.Equal("Trained gate: the gate's best pair", plan.Rationale);
        Assert.Equal(0.4, plan.DecisionMs);
        Assert.Equal(["algebra"], plan.Skills);
        Assert.Null(plan.BindingBudget);
        Assert.Equal(2000, plan.LatencyBudgetMs);

        Assert.Collection(
            plan.Steps,
            s => Assert.Equal(new PlannedStep { ExpertId = "mesh-b", Role = ExpertRole.Responder, Silo = "silo-4090", DeviceName = "RTX 4090", Replica = 2, Resident = true, Weight = 1.5, PredictedLatencyMs = 300, PredictedEnergyJoules = 15 }, s),
            s => Assert.Equal(new PlannedStep { ExpertId = "mesh-a", Role = ExpertRole.Responder, Silo = "silo-4090", DeviceName = "RTX 4090", Replica = 1, Resident = false, Weight = 0.7, PredictedLatencyMs = 700, PredictedEnergyJoules = 30 }, s),
            s => Assert.Equal(new PlannedStep { ExpertId = "mesh-a", Role = ExpertRole.Aggregator, Silo = "silo-orin", DeviceName = "Jetson AGX Orin", Replica = 0, Resident = true, PredictedLatencyMs = 500, PredictedEnergyJoules = 20 }, s));
    }

    [Fact]
    public void Candidates_carry_their_mesh_id_silo_score_and_a_note_on_load_time()
    {
        var plan = Plan().ToQueryPlan(Context());

        Assert.Equal(["mesh-a", "mesh-b", "mesh-a"], plan.Candidates.Select(c => c.ExpertId));
        Assert.Equal(["silo-orin", "silo-4090", "silo-4090"], plan.Candidates.Select(c => c.Silo));
        Assert.Equal([0.6, 0.8, 0.6], plan.Candidates.Select(c => c.Score));
        Assert.Equal([false, true, true], plan.Candidates.Select(c => c.Chosen));
        Assert.Equal([null, "chosen", "chosen; not loaded: load time included"], plan.Candidates.Select(c => c.Note));
    }

    [Fact]
    public void An_infeasible_plan_names_its_binding_budget_and_marks_the_cheapest_plan()
    {
        var plan = Plan(feasible: false).ToQueryPlan(Context());

        Assert.False(plan.Feasible);
        Assert.Equal(BindingBudget.Energy, plan.BindingBudget);
        Assert.Equal("cheapest plan; budgets cannot be met", plan.Candidates[1].Note);
    }

    [Fact]
    public void Without_placements_steps_use_the_planners_names_and_no_silo()
    {
        var plan = Plan().ToQueryPlan(Context() with { Placements = null, AggregatorPlacement = null, Basis = null });

        Assert.Equal(["recorded-b", "recorded-a", "recorded-a"], plan.Steps.Select(s => s.ExpertId));
        Assert.All(plan.Steps, s => Assert.Null(s.Silo));
        Assert.Equal("the gate's best pair", plan.Rationale);
    }

    [Fact]
    public void Placements_that_do_not_match_the_candidates_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Plan().ToQueryPlan(Context() with { Placements = Placements[..2] }));

        Assert.Contains("2 placements for 3 candidates", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_extreme_plan_runs_the_fastest_or_the_most_frugal_candidate_and_says_which_budget_it_breaks()
    {
        var fastest = RoutingPlan.Extreme(Candidates, new SelectionBudget(), Experts, fastest: true);
        Assert.True(fastest.Feasible);
        Assert.Equal(1, Assert.Single(fastest.Responders).Candidate);

        var frugal = RoutingPlan.Extreme(Candidates, new SelectionBudget { EnergyJoules = 10 }, Experts, fastest: false);
        Assert.False(frugal.Feasible);
        Assert.Equal(BindingBudget.Energy, frugal.Binding);
        Assert.Contains("breaks the energy budget", frugal.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_an_aggregator_adds_its_cost()
    {
        var plan = Plan() with { Aggregator = null };

        var withAggregator = plan.WithAggregator(new PlanningCandidate(0, 0, 500, 20));

        Assert.Equal(0, withAggregator.Aggregator);
        Assert.Equal(1700, withAggregator.LatencyMs);
        Assert.Equal(80, withAggregator.EnergyJoules);
    }
}
