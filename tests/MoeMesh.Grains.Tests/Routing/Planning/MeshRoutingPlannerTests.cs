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
using MoeMesh.Serialization;

namespace MoeMesh.Grains.Tests.Routing.Planning;

/// <summary>The planner on experts without recorded history: manifest skills, costs, budgets.</summary>
public sealed class MeshRoutingPlannerTests
{
    private static readonly DeviceProfile Jetson = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "jetson-agx-orin-64gb" });
    private static readonly DeviceProfile Rtx = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "rtx-4090-desktop" });

    private readonly MeshRoutingPlanner _planner = new(
        new RecordedKnowledge(Options.Create(new RouterOptions()), NullLogger<RecordedKnowledge>.Instance),
        new LiveCostModel(),
        Options.Create(new RouterOptions()));

    [Fact]
    public async Task Skill_tags_decide_between_experts_of_one_size()
    {
        var plan = await _planner.PlanAsync(Query.FromPrompt("What is 7 times 6? Show the arithmetic."), Catalog());

        Assert.Equal("math", Assert.Single(plan.Steps).ExpertId);
        Assert.Contains("arithmetic", plan.Skills);
        Assert.Equal(4 * 2 - 1, plan.Candidates.Count);
        Assert.StartsWith("Manifest skills:", plan.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fastest_and_cheapest_pick_the_extremes()
    {
        var fastest = await _planner.PlanAsync(Query.FromPrompt("anything", new QueryOptions { Strategy = RoutingStrategy.Fastest }), Catalog());
        var cheapest = await _planner.PlanAsync(Query.FromPrompt("anything", new QueryOptions { Strategy = RoutingStrategy.Cheapest }), Catalog());

        var fastestStep = Assert.Single(fastest.Steps);
        Assert.Equal(fastest.Candidates.Min(c => c.PredictedLatencyMs), fastestStep.PredictedLatencyMs);
        Assert.Equal("RTX 4090 desktop", fastestStep.DeviceName);
        var cheapestStep = Assert.Single(cheapest.Steps);
        Assert.Equal(cheapest.Candidates.Min(c => c.PredictedEnergyJoules), cheapestStep.PredictedEnergyJoules);
        Assert.Equal("Jetson AGX Orin 64GB", cheapestStep.DeviceName);
    }

    [Fact]
    public async Task Moe2_runs_up_to_k_experts_within_both_budgets()
    {
        var open = await _planner.PlanAsync(Query.FromPrompt("physics of orbits", new QueryOptions { Strategy = RoutingStrategy.Moe2, K = 3 }), Catalog());
        var tight = open.PredictedEnergyJoules / 2;
        var budgeted = await _planner.PlanAsync(Query.FromPrompt("physics of orbits", new QueryOptions { Strategy = RoutingStrategy.Moe2, K = 3, EnergyBudgetJoules = tight }), Catalog());

        Assert.Equal(3, open.Steps.Count);
        Assert.Equal(3, open.Steps.Select(s => s.ExpertId).Distinct().Count());
        Assert.True(budgeted.Feasible);
        Assert.True(budgeted.PredictedEnergyJoules <= tight);
        Assert.True(budgeted.Steps.Count < 3);
    }

    [Fact]
    public async Task Impossible_budget_names_the_binding_budget_and_offers_the_cheapest_plan()
    {
        var plan = await _planner.PlanAsync(Query.FromPrompt("hello", new QueryOptions { Strategy = RoutingStrategy.Moe2, EnergyBudgetJoules = 1e-9 }), Catalog());

        Assert.False(plan.Feasible);
        Assert.Equal("energy", plan.BindingBudget?.ToWireName());
        Assert.Single(plan.Steps);
        Assert.Contains("energy budget", plan.Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Symbolic_plans_add_an_aggregator()
    {
        var plan = await _planner.PlanAsync(Query.FromPrompt("history and writing", new QueryOptions { Strategy = RoutingStrategy.Symbolic, K = 2 }), Catalog());

        Assert.Equal(2, plan.Steps.Count(s => s.Role == ExpertRole.Responder));
        Assert.Single(plan.Steps, s => s.Role == ExpertRole.Aggregator);
        Assert.True(plan.PredictedLatencyMs > plan.Steps.Where(s => s.Role == ExpertRole.Responder).Max(s => s.PredictedLatencyMs));
    }

    [Fact]
    public async Task An_expert_not_loaded_pays_its_load_time()
    {
        var catalog = Catalog() with { Replicas = [] };

        var plan = await _planner.PlanAsync(Query.FromPrompt("physics", new QueryOptions { Experts = ["science"] }), catalog);

        var step = Assert.Single(plan.Steps);
        Assert.False(step.Resident);
        Assert.Contains(plan.Candidates, c => c.Note!.Contains("not loaded: load time included", StringComparison.Ordinal));
        Assert.True(step.PredictedLatencyMs > 500, $"a 3.5 GB model takes seconds to read; predicted {step.PredictedLatencyMs} ms");
    }

    [Fact]
    public async Task Steps_leave_the_planner_on_their_silo_replica_and_device()
    {
        var catalog = Catalog();

        var plan = await _planner.PlanAsync(Query.FromPrompt("history and writing", new QueryOptions { Strategy = RoutingStrategy.Symbolic, K = 2 }), catalog);

        Assert.All(plan.Steps, step =>
        {
            var replica = Assert.Single(catalog.Replicas, r => r.Replica.ExpertId == step.ExpertId && r.Silo == step.Silo);
            Assert.Equal(replica.Replica.Replica, step.Replica);
            Assert.True(step.Resident);
            Assert.Equal(catalog.Silos.Single(s => s.Silo == step.Silo).Device.Name, step.DeviceName);
        });
        Assert.All(plan.Candidates, c => Assert.Contains(c.Silo, catalog.Silos.Select(s => s.Silo)));
        Assert.True(plan.DecisionMs > 0);
    }

    [Fact]
    public async Task A_cancelled_caller_gets_no_plan()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await _planner.PlanAsync(Query.FromPrompt("physics"), Catalog(), cancelled.Token));
    }

    [Fact]
    public async Task Queries_planned_from_one_snapshot_get_the_plans_a_fresh_planner_makes()
    {
        var catalog = Catalog();
        var questions = new[] { "What is 7 times 6?", "physics of orbits", "history and writing", "write some code" };
        var options = new QueryOptions { Strategy = RoutingStrategy.Moe2, K = 2 };
        foreach (var question in questions)
        {
            await _planner.PlanAsync(Query.FromPrompt(question, options), catalog);
        }

        foreach (var question in questions)
        {
            var fresh = new MeshRoutingPlanner(
                new RecordedKnowledge(Options.Create(new RouterOptions()), NullLogger<RecordedKnowledge>.Instance),
                new LiveCostModel(),
                Options.Create(new RouterOptions()));

            var again = await _planner.PlanAsync(Query.FromPrompt(question, options), catalog);
            var first = await fresh.PlanAsync(Query.FromPrompt(question, options), Catalog());

            Assert.Equal(first.Steps.Select(s => (s.ExpertId, s.Silo, s.Replica)), again.Steps.Select(s => (s.ExpertId, s.Silo, s.Replica)));
            Assert.Equal(first.Candidates.Select(c => (c.ExpertId, c.Silo, c.PredictedLatencyMs)), again.Candidates.Select(c => (c.ExpertId, c.Silo, c.PredictedLatencyMs)));
        }
    }

    /// <summary>Four 7B experts, each on both silos except science (Jetson only), all loaded.</summary>
    private static CatalogSnapshot Catalog()
    {
        ExpertManifest Expert(string id, string[] skills, DeviceKind[]? kinds = null) => new()
        {
            Id = id,
            Engine = ExpertEngines.Replay,
            ParameterCount = 7_000_000_000,
            Quantization = "Q4_K_M",
            Skills = skills,
            Placement = new PlacementConstraints { DeviceKinds = kinds ?? [] },
        };

        ExpertManifest[] experts =
        [
            Expert("general", ["general", "writing", "history"]),
            Expert("math", ["math", "arithmetic", "algebra"]),
            Expert("code", ["code", "programming"]),
            Expert("science", ["physics", "chemistry"], [DeviceKind.Jetson]),
        ];
        SiloInfo Silo(string name, DeviceProfile device) => new()
        {
            Silo = name,
            Device = device,
            State = SiloState.Active,
            HostableExperts = experts.Select(e => e.Id).ToList(),
            ModelMemoryBudgetBytes = device.MemoryBytes,
        };

        var silos = new[] { Silo("jetson-silo", Jetson), Silo("rtx-silo", Rtx) };
        var replicas = experts.SelectMany(e => silos.Where(s => e.Placement.AllowsKind(s.Device.Kind)).Select((s, i) => new ReplicaStatus
        {
            Replica = new ExpertReplica(e.Id, i),
            Silo = s.Silo,
            State = ReplicaState.Ready,
        })).ToList();
        return new CatalogSnapshot { Silos = silos, Experts = experts, Replicas = replicas };
    }
}
