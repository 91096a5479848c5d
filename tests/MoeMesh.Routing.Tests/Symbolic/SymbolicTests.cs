using MoeMesh.Routing.Data;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;
using MoeMesh.Routing.Tests.Support;
using MoeMesh.Queries;

namespace MoeMesh.Routing.Tests.Symbolic;

public sealed class ExpertSkillProfilesTests
{
    [Fact]
    public void Scores_are_plus_one_per_right_and_minus_one_per_wrong_answer_per_keyword()
    {
        ProfileExample[] examples =
        [
            new(["Algebra", "geometry"], [true, false, null]),
            new(["algebra"], [true, true, false]),
            new(["algebra", "algebra"], [false, true, true]),
        ];
        var profiles = ExpertSkillProfiles.Build(["a", "b", "c"], examples);

        Assert.Equal(["algebra", "geometry"], profiles.Keywords);
        var algebra = profiles.KeywordIndex("ALGEBRA");
        var geometry = profiles.KeywordIndex("geometry");
        Assert.Equal(1, profiles.Score(0, algebra));      // +1 +1 −1
        Assert.Equal(1, profiles.Score(1, algebra));      // −1 +1 +1
        Assert.Equal(0, profiles.Score(2, algebra));      // (none) −1 +1
        Assert.Equal((2, 1), profiles.Counts(0, algebra));
        Assert.Equal(1, profiles.Score(0, geometry));
        Assert.Equal(0, profiles.Counts(2, geometry).Right + profiles.Counts(2, geometry).Wrong);

        // Global competence: the sum over all keywords.
        Assert.Equal(2, profiles.GlobalCompetence(0));
        Assert.Equal(0, profiles.GlobalCompetence(1));
        Assert.Equal(0, profiles.GlobalCompetence(2));
        Assert.Equal(3 / 4.0, profiles.GlobalRate(0));
        Assert.Equal(-1, profiles.KeywordIndex("topology"));
    }

    [Fact]
    public void Profiles_need_keywords_and_matching_outcomes()
    {
        Assert.Throws<ArgumentException>(() => ExpertSkillProfiles.Build(["a"], [new ProfileExample([], [true])]));
        Assert.Throws<ArgumentException>(() => ExpertSkillProfiles.Build(["a", "b"], [new ProfileExample(["x"], [true])]));
    }
}

public sealed class SkillRecruiterTests
{
    private static readonly ExpertSkillProfiles Profiles = ExpertSkillProfiles.Build(
        ["math-expert", "law-expert", "generalist", "weak"],
        Enumerable.Range(0, 40).SelectMany(i => new[]
        {
            new ProfileExample(["algebra"], [true, false, i % 2 == 0, i % 5 == 0]),
            new ProfileExample(["contract law"], [false, true, i % 2 == 0, i % 5 == 0]),
        }));

    [Fact]
    public void Top_k_recruits_the_best_local_times_global_without_duplicates()
    {
        var recruiter = new SkillRecruiter(Profiles);
        var recruitment = recruiter.Recruit(["algebra"], 2);
        Assert.Equal(["math-expert", "generalist"], recruitment.Experts.Select(e => e.Name));
        Assert.All(recruitment.Experts, e => Assert.Equal(1, e.Count));
        Assert.Equal(["algebra"], recruitment.MatchedKeywords);

        // Keywords are matched to the nearest profile keyword.
        Assert.Equal("law-expert", recruiter.Recruit(["contracts law"], 1).Experts[0].Name);

        // Without matched keywords, global competence decides.
        var unmatched = recruiter.Recruit(["volcanology"], 4);
        Assert.Empty(unmatched.MatchedKeywords);
        Assert.Equal(4, unmatched.Experts.Count);
        Assert.Equal("weak", unmatched.Experts[^1].Name);
    }

    [Fact]
    public void Sampled_recruiting_is_reproducible_with_a_fixed_seed()
    {
        var recruiter = new SkillRecruiter(Profiles);
        var first = recruiter.Recruit(["algebra"], 3, RecruitMode.Sample, new Random(42));
        var second = recruiter.Recruit(["algebra"], 3, RecruitMode.Sample, new Random(42));
        Assert.Equal(first.Experts, second.Experts);
        Assert.Equal(3, first.Experts.Sum(e => e.Count));

        // Many draws follow the softmax over standardised scores.
        var counts = new int[4];
        var random = new Random(7);
        for (var i = 0; i < 4000; i++)
        {
            foreach (var e in recruiter.Recruit(["algebra"], 1, RecruitMode.Sample, random).Experts)
            {
                counts[e.Expert] += e.Count;
            }
        }

        var expected = SkillRecruiter.SamplingProbabilities(recruiter.Suitability(["algebra"]).Scores, 0.5);
        for (var e = 0; e < 4; e++)
        {
            Assert.InRange(counts[e] / 4000.0, expected[e] - 0.03, expected[e] + 0.03);
        }

        Assert.Throws<ArgumentNullException>(() => recruiter.Recruit(["algebra"], 3, RecruitMode.Sample));
    }

    [Fact]
    public void Lower_temperature_concentrates_the_draws()
    {
        double[] scores = [0.3, 0.2, 0.1];
        Assert.True(SkillRecruiter.SamplingProbabilities(scores, 0.25)[0] > SkillRecruiter.SamplingProbabilities(scores, 1)[0]);
        Assert.Equal(1, SkillRecruiter.SamplingProbabilities(scores, 0.5).Sum(), 9);
        Assert.All(SkillRecruiter.SamplingProbabilities([0.2, 0.2], 0.5), p => Assert.Equal(0.5, p, 9));
    }

    [Fact]
    public void The_planner_keeps_recruits_inside_the_budgets()
    {
        var recruiter = new SkillRecruiter(Profiles);
        var planner = new SymbolicPlanner(new FixedSkills(["algebra"]), recruiter);
        PlanningCandidate[] candidates = [new(0, 0, 9000, 400), new(1, 1, 1000, 50), new(2, 1, 1500, 60), new(3, 1, 500, 20)];

        var free = planner.Plan(["algebra"], candidates, new SelectionBudget { MaxExperts = 2 });
        Assert.Equal(["math-expert", "generalist"], free.Plan.Responders.Select(r => r.ExpertId));

        var tight = planner.Plan(["algebra"], candidates, new SelectionBudget { MaxExperts = 2, EnergyJoules = 100 });
        Assert.True(tight.Plan.Feasible);
        Assert.DoesNotContain(tight.Plan.Responders, r => r.ExpertId == "math-expert");
        Assert.True(tight.Plan.EnergyJoules <= 100);

        var impossible = planner.Plan(["algebra"], candidates, new SelectionBudget { MaxExperts = 2, EnergyJoules = 5 });
        Assert.False(impossible.Plan.Feasible);
        Assert.Equal(BindingBudget.Energy, impossible.Plan.Binding);
        Assert.Equal("weak", Assert.Single(impossible.Plan.Responders).ExpertId);
    }

    [Fact]
    public void An_aggregator_is_planned_and_paid_for_when_two_or_more_respond()
    {
        var planner = new SymbolicPlanner(new FixedSkills(["algebra"]), new SkillRecruiter(Profiles));
        PlanningCandidate[] candidates = [new(0, 0, 1000, 40), new(1, 1, 1000, 50), new(2, 1, 1500, 60), new(3, 1, 500, 20)];
        var aggregator = new PlanningCandidate(2, 1, 700, 30);
        var plan = planner.Plan(["algebra"], candidates, new SelectionBudget { MaxExperts = 3 }, aggregator).Plan;
        Assert.Equal(0, plan.Aggregator);
        Assert.Equal(40 + 60 + 50 + 30, plan.EnergyJoules, 9);
        Assert.Equal(2500 + 700, plan.LatencyMs, 9);

        var single = planner.Plan(["algebra"], candidates, new SelectionBudget { MaxExperts = 1 }, aggregator).Plan;
        Assert.Null(single.Aggregator);
        Assert.Equal(40, single.EnergyJoules, 9);
    }

    private sealed class FixedSkills(IReadOnlyList<string> skills) : ISkillExtractor
    {
        public ValueTask<IReadOnlyList<string>> ExtractAsync(string question, CancellationToken cancellationToken = default) => ValueTask.FromResult(skills);
    }
}

public sealed class AggregatorSelectorTests
{
    [Fact]
    public void Chooses_the_model_best_at_picking_the_one_right_answer_among_wrong_ones()
    {
        // Responders r1..r3; on every question exactly one of them is right. "picker" agrees with the right one, "contrarian" never does.
        string[] models = ["r1", "r2", "r3", "picker", "contrarian"];
        var dataset = SyntheticData.Build(models, 50, id =>
        {
            var right = id % 3;
            var predictions = new string?[5];
            for (var r = 0; r < 3; r++)
            {
                predictions[r] = r == right ? "A" : "B";
            }

            predictions[3] = "A";
            predictions[4] = "C";
            return ("math", "s", $"q{id}", "A", predictions);
        });
        var train = DataSplit.Default.Train(dataset);
        var choice = AggregatorSelector.Select(train, ["r1", "picker", "contrarian"], _ => ["r1", "r2", "r3"]);
        Assert.Equal("picker", choice.Expert);
        var picker = choice.Scores.Single(s => s.Expert == "picker");
        Assert.Equal(train.Questions.Count, picker.Trials);
        Assert.Equal(1.0, picker.Rate);
        Assert.Equal(0.0, choice.Scores.Single(s => s.Expert == "contrarian").Rate);
    }

    [Fact]
    public void Simulation_scores_final_answers_where_the_aggregator_is_asked_and_skips_agreeing_recruits()
    {
        // Two recruits: on even questions they agree (right), on odd ones r1 is right and r2 wrong.
        // "picker" gives the right answer; "contrarian" gives r2's wrong one; "stranger" neither, so the vote stands.
        string[] models = ["r1", "r2", "picker", "contrarian", "stranger"];
        var dataset = SyntheticData.Build(models, 60, id => ("math", "s", $"q{id}", "A", [id % 2 == 0 ? "A" : "A", id % 2 == 0 ? "A" : "B", "A", "B", "D"]));
        var train = DataSplit.Default.Train(dataset);
        var choice = AggregatorSelector.SelectBySimulation(train, ["contrarian", "stranger", "picker"], _ => [("r1", 1.0), ("r2", 2.0)]);

        Assert.Equal("picker", choice.Expert);
        var asked = train.Questions.Count(q => q.QuestionId % 2 == 1);
        Assert.All(choice.Scores, s => Assert.Equal(asked, s.Trials));
        Assert.Equal(1.0, choice.Scores.Single(s => s.Expert == "picker").Rate);
        Assert.Equal(0.0, choice.Scores.Single(s => s.Expert == "contrarian").Rate);

        // The stranger's own answer is none of the recruits', so the weighted vote (r2, heavier, wrong) stands.
        Assert.Equal(0.0, choice.Scores.Single(s => s.Expert == "stranger").Rate);
    }
}
