using MoeMesh.Experts;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Tests.Support;
using MoeMesh.Serialization;

namespace MoeMesh.Routing.Tests.Gating;

public sealed class WeightedVoteTests
{
    [Fact]
    public void A_confident_expert_outvotes_two_unsure_ones()
    {
        var strong = WeightedVote.WeightFromProbability(0.8);
        var weak = WeightedVote.WeightFromProbability(0.3);
        var outcome = WeightedVote.Combine([new("A", strong), new("B", weak), new("B", weak)]);
        Assert.Equal("A", outcome.Answer);
        Assert.False(outcome.Unanimous);
        Assert.Equal(strong / (strong + (2 * weak)), outcome.Support, 9);
    }

    [Fact]
    public void Ties_go_to_the_heaviest_ballot_then_the_earliest_and_missing_answers_abstain()
    {
        Assert.Equal("B", WeightedVote.Combine([new("A", 1), new("A", 1), new("B", 2)]).Answer);
        Assert.Equal("A", WeightedVote.Combine([new("A", 1), new("B", 1)]).Answer);
        var abstain = WeightedVote.Combine([new(null, 5), new("C", 0.1)]);
        Assert.Equal("C", abstain.Answer);
        Assert.True(abstain.Unanimous);
        Assert.Null(WeightedVote.Combine([new(null, 1)]).Answer);
        Assert.Throws<ArgumentException>(() => WeightedVote.Combine([new("A", double.NaN)]));
    }

    [Fact]
    public void Weights_grow_with_the_probability_and_never_vanish()
    {
        Assert.True(WeightedVote.WeightFromProbability(0.6) > WeightedVote.WeightFromProbability(0.4));
        Assert.Equal(WeightedVote.MinWeight, WeightedVote.WeightFromProbability(0.01));
        Assert.Equal(WeightedVote.MinWeight, WeightedVote.WeightFromProbability(0.5, options: 2), 9);
    }
}

public sealed class LogisticGateTests
{
    [Fact]
    public void Learns_which_expert_is_right_for_which_kind_of_question()
    {
        // "mathy" is right on algebra questions, "lawyer" on contract questions; "guesser" is right a quarter of the time.
        var dataset = SyntheticData.Build(["mathy", "lawyer", "guesser"], 600, id =>
        {
            var algebra = id % 2 == 0;
            var text = algebra ? $"Solve the quadratic equation for x with coefficient {id % 7}" : $"Is the contract enforceable under the statute, clause {id % 7}";
            var category = algebra ? "math" : "law";
            var source = algebra ? "ori_mmlu-high_school_mathematics" : "ori_mmlu-professional_law";
            return (category, source, text, "A", [algebra ? "A" : "B", algebra ? "B" : "A", id % 4 == 1 ? "A" : "C"]);
        });
        var train = DataSplit.Default.Train(dataset);
        var gate = LogisticGateTrainer.Fit(train, ["mathy", "lawyer", "guesser"], new GateTrainingOptions { HashBits = 14, Epochs = 4, LearningRate = 0.1, DenseLearningRate = 0.1 });

        var scores = new double[3];
        gate.Estimate(new GateQuery("Solve the quadratic equation for x"), scores);
        Assert.True(scores[0] > 0.7 && scores[1] < 0.3, $"algebra scores {string.Join(", ", scores)}");
        gate.Estimate(new GateQuery("Is the contract enforceable under the statute"), scores);
        Assert.True(scores[1] > 0.7 && scores[0] < 0.3, $"contract scores {string.Join(", ", scores)}");
        Assert.All(scores, s => Assert.InRange(s, 0, 1));

        var validation = LogisticGateTrainer.CrossValidate(train, ["mathy", "lawyer", "guesser"], new GateTrainingOptions { HashBits = 14, Epochs = 4, LearningRate = 0.1 }, folds: 3);
        Assert.True(validation.TopOneAccuracy > 0.95, $"cross-validated top-1 {validation.TopOneAccuracy}");
    }

    [Fact]
    public void Skill_probabilities_given_with_the_query_are_read_only_when_the_gates_own_skill_model_made_them()
    {
        var dataset = SyntheticData.Build(["mathy", "lawyer"], 400, id =>
        {
            var algebra = id % 2 == 0;
            var text = algebra ? $"Solve the quadratic equation for x with coefficient {id % 7}" : $"Is the contract enforceable under the statute, clause {id % 7}";
            return (algebra ? "math" : "law", algebra ? "ori_mmlu-high_school_mathematics" : "ori_mmlu-professional_law", text, "A", [algebra ? "A" : "B", algebra ? "B" : "A"]);
        });
        var train = DataSplit.Default.Train(dataset);
        var gate = LogisticGateTrainer.Fit(train, ["mathy", "lawyer"], new GateTrainingOptions { HashBits = 12, Epochs = 3 });
        var skills = Assert.IsType<LexicalSkillExtractor>(gate.Featurizer.Skills);
        const string text = "Solve the quadratic equation for x";

        double[] Scores(GateQuery query)
        {
            var scores = new double[2];
            gate.Estimate(query, scores);
            return scores;
        }

        var worked = Scores(new GateQuery(text));
        var own = skills.Posterior(text);
        Assert.Same(skills, own.Model);
        Assert.Equal(worked, Scores(new GateQuery(text) { SkillPosterior = own }));

        // Probabilities that disagree with the text show whether the gate read them or worked its own out.
        var flipped = own with { Categories = [.. own.Categories.Reverse()], Topics = [.. own.Topics.Reverse()] };
        Assert.NotEqual(worked, Scores(new GateQuery(text) { SkillPosterior = flipped }));
        var fromAnotherModel = flipped with { Model = LexicalSkillExtractor.Fit(train) };
        Assert.Equal(worked, Scores(new GateQuery(text) { SkillPosterior = fromAnotherModel }));
    }

    [Fact]
    public void Training_problems_are_reported()
    {
        var dataset = SyntheticData.Build(["a"], 20, id => ("math", "s", "q", "A", ["A"]));
        var train = DataSplit.Default.Train(dataset);
        var error = Assert.Throws<ArgumentException>(() => LogisticGateTrainer.Fit(train, ["a", "ghost"], new GateTrainingOptions { Epochs = 0 }));
        Assert.Contains("'ghost' has no recorded answers", error.Message, StringComparison.Ordinal);
        Assert.Contains("Epochs", error.Message, StringComparison.Ordinal);
    }
}

public sealed class ManifestGateTests
{
    private static readonly ExpertManifest Math7B = new() { Id = "math-7b", Engine = ExpertEngines.LlamaCpp, ModelPath = "m.gguf", ParameterCount = 7_000_000_000, Skills = ["mathematics", "algebra"] };
    private static readonly ExpertManifest General70B = new() { Id = "general-70b", Engine = ExpertEngines.LlamaCpp, ModelPath = "g.gguf", ParameterCount = 70_000_000_000, Skills = ["general knowledge"] };

    [Fact]
    public void Bigger_experts_score_higher_and_matching_skills_add_a_bonus()
    {
        var gate = new ManifestSkillGate([Math7B, General70B]);
        var scores = new double[2];
        gate.Estimate(new GateQuery("Tell me about Rome", Skills: ["history"]), scores);
        Assert.True(scores[1] > scores[0]);
        var plain = scores[0];

        gate.Estimate(new GateQuery("Solve x", Skills: ["algebra"]), scores);
        Assert.Equal(plain + gate.Options.SkillMatchBonus, scores[0], 9);
    }

    [Fact]
    public void A_composite_gate_uses_history_where_it_exists_and_manifests_elsewhere()
    {
        var trained = new ConstantGate(["math-7b"], 0.9);
        var fallback = new ManifestSkillGate([Math7B, General70B]);
        var gate = new CompositeGate(["general-70b", "math-7b"], trained, fallback);
        var scores = new double[2];
        gate.Estimate(new GateQuery("q", Skills: []), scores);
        Assert.Equal(0.9, scores[1]);
        Assert.InRange(scores[0], 0.05, 0.9);
        Assert.Throws<ArgumentException>(() => new CompositeGate(["unknown"], trained, fallback));
    }

    private sealed class ConstantGate(IReadOnlyList<string> experts, double value) : IQualityEstimator
    {
        public IReadOnlyList<string> Experts { get; } = experts;

        public void Estimate(GateQuery query, Span<double> quality) => quality[..Experts.Count].Fill(value);
    }
}

public sealed class Moe2PlannerTests
{
    private static readonly FixedGate Gate = new(["a", "b", "c"], [0.7, 0.5, 0.4]);

    [Fact]
    public void Plans_the_best_feasible_set_ordered_by_gate_score_with_vote_weights()
    {
        var planner = new Moe2Planner(Gate);
        PlanningCandidate[] candidates = [new(0, 0, 5000, 500), new(1, 1, 1000, 100), new(2, 1, 800, 80)];
        var plan = planner.Plan(new GateQuery("q"), candidates, new SelectionBudget { MaxExperts = 2, EnergyJoules = 300 });
        Assert.True(plan.Feasible);
        Assert.Equal(["b", "c"], plan.Responders.Select(r => r.ExpertId));
        Assert.True(plan.Responders[0].Weight > plan.Responders[1].Weight);
        Assert.Equal(180, plan.EnergyJoules, 9);
        Assert.Equal(1800, plan.LatencyMs, 9);
    }

    [Fact]
    public void An_impossible_budget_returns_the_cheapest_plan_marked_infeasible()
    {
        var planner = new Moe2Planner(Gate);
        PlanningCandidate[] candidates = [new(0, 0, 5000, 500), new(1, 1, 1000, 100), new(2, 1, 800, 80)];
        var plan = planner.Plan(new GateQuery("q"), candidates, new SelectionBudget { MaxExperts = 2, LatencyMs = 100 });
        Assert.False(plan.Feasible);
        Assert.Equal(BindingBudget.Latency, plan.Binding);
        Assert.Equal("c", Assert.Single(plan.Responders).ExpertId);
        Assert.Contains("latency budget", plan.Rationale, StringComparison.Ordinal);

        var queryPlan = plan.ToQueryPlan(new QueryPlanContext
        {
            QueryId = "q1",
            Strategy = RoutingStrategy.Moe2,
            Experts = Gate.Experts,
            Candidates = candidates,
            Placements = [.. candidates.Select(c => new MeshPlacement(Gate.Experts[c.Expert], $"silo-{c.Device}", $"device-{c.Device}", 0, Resident: true))],
            Budget = new SelectionBudget { MaxExperts = 2, LatencyMs = 100 },
        });
        Assert.False(queryPlan.Feasible);
        Assert.Equal("latency", queryPlan.BindingBudget?.ToWireName());
        Assert.Equal(100, queryPlan.LatencyBudgetMs);
        Assert.Equal(3, queryPlan.Candidates.Count);
        Assert.Single(queryPlan.Candidates, c => c.Chosen);
        var step = Assert.Single(queryPlan.Steps);
        Assert.Equal("c", step.ExpertId);
        Assert.Equal("device-1", step.DeviceName);
    }

    [Fact]
    public void Replicas_of_an_expert_are_alternatives_not_extra_votes()
    {
        var planner = new Moe2Planner(Gate);
        PlanningCandidate[] candidates = [new(0, 0, 5000, 200), new(0, 1, 1000, 400), new(1, 1, 1000, 100)];
        var plan = planner.Plan(new GateQuery("q"), candidates, new SelectionBudget { MaxExperts = 3 });
        Assert.Equal(2, plan.Responders.Count);
        Assert.Single(plan.Responders, r => r.ExpertId == "a");
    }

    private sealed class FixedGate(IReadOnlyList<string> experts, double[] scores) : IQualityEstimator
    {
        public IReadOnlyList<string> Experts { get; } = experts;

        public void Estimate(GateQuery query, Span<double> quality) => scores.CopyTo(quality);
    }
}
