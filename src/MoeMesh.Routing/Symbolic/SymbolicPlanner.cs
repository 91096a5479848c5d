using MoeMesh.Routing.CostModel;
using MoeMesh.Routing.Gating;
using MoeMesh.Routing.Selection;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Symbolic;

/// <summary>A Symbolic-MoE decision: the plan, the skills found and who was recruited.</summary>
public sealed record SymbolicPlan(RoutingPlan Plan, IReadOnlyList<string> Skills, Recruitment Recruitment);

/// <summary>
/// Symbolic-MoE routing for one query: extract skills, recruit k experts by local × global
/// competence (deterministic top-k, or the paper's sampling), keep the plan inside the budgets with
/// the exact budgeted search, and hand the answers to the aggregator (or vote when there is none).
/// An expert drawn twice by sampling runs once and votes twice.
/// Thread-safe when the skill extractor is (the lexical one is); sampling uses the caller's <see cref="Random"/>.
/// </summary>
public sealed class SymbolicPlanner
{
    /// <summary>Creates a planner; expert indices of candidates follow <paramref name="recruiter"/>'s profile order.</summary>
    public SymbolicPlanner(ISkillExtractor skills, SkillRecruiter recruiter, RecruitMode mode = RecruitMode.TopK)
    {
        Skills = skills ?? throw new ArgumentNullException(nameof(skills));
        Recruiter = recruiter ?? throw new ArgumentNullException(nameof(recruiter));
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown recruiting mode");
        }

        Mode = mode;
    }

    /// <summary>Finds the query's skills.</summary>
    public ISkillExtractor Skills { get; }

    /// <summary>Recruits experts from skills.</summary>
    public SkillRecruiter Recruiter { get; }

    /// <summary>Top-k or sampled recruiting.</summary>
    public RecruitMode Mode { get; }

    /// <summary>Extracts the skills of <paramref name="question"/>, then plans (see <see cref="Plan"/>).</summary>
    public async ValueTask<SymbolicPlan> PlanAsync(
        string question,
        IReadOnlyList<PlanningCandidate> candidates,
        SelectionBudget budget,
        PlanningCandidate? aggregator = null,
        Random? random = null,
        int answerOptions = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var skills = await Skills.ExtractAsync(question, cancellationToken).ConfigureAwait(false);
        return Plan(skills, candidates.ToArray(), budget, aggregator, random, answerOptions);
    }

    /// <summary>
    /// Recruits for <paramref name="skills"/> and keeps the plan within <paramref name="budget"/>.
    /// With an <paramref name="aggregator"/> (its predicted cost for this query), plans of two or
    /// more responders include its run; without one, answers are combined by competence-weighted vote.
    /// </summary>
    public SymbolicPlan Plan(
        IReadOnlyList<string> skills,
        ReadOnlySpan<PlanningCandidate> candidates,
        SelectionBudget budget,
        PlanningCandidate? aggregator = null,
        Random? random = null,
        int answerOptions = 10)
    {
        ArgumentNullException.ThrowIfNull(skills);
        ArgumentNullException.ThrowIfNull(budget);
        var recruitment = Recruiter.Recruit(skills, budget.MaxExperts, Mode, random);
        var suitability = recruitment.Suitability;
        var overheads = aggregator is { } a
            ? new PlanOverheads { CombineLatencyMs = a.LatencyMs, CombineEnergyJoules = a.EnergyJoules }
            : PlanOverheads.None;
        var draws = new int[suitability.Scores.Length];
        foreach (var recruited in recruitment.Experts)
        {
            draws[recruited.Expert] = recruited.Count;
        }

        double Weight(int expert) => Math.Max(1, draws[expert]) * WeightedVote.WeightFromProbability(suitability.Local[expert], answerOptions);
        var searchBudget = budget with { Objective = SubsetObjective.ExpectedCorrect };
        RoutingPlan plan;
        if (Mode == RecruitMode.Sample)
        {
            // Keep the sampled experts when they fit the budgets; otherwise fall back to the best feasible set of all.
            var sampled = new List<PlanningCandidate>();
            var map = new List<int>();
            for (var i = 0; i < candidates.Length; i++)
            {
                if (draws[candidates[i].Expert] > 0)
                {
                    sampled.Add(candidates[i]);
                    map.Add(i);
                }
            }

            var distinct = recruitment.Experts.Count;
            plan = Moe2Planner.PlanWithQuality(suitability.Scores, sampled.ToArray(), searchBudget with { MaxExperts = distinct }, overheads, answerOptions, Recruiter.Profiles.Experts, Weight);
            if (plan.Feasible && plan.Responders.Count == distinct)
            {
                plan = plan with { Responders = plan.Responders.Select(r => r with { Candidate = map[r.Candidate] }).ToArray() };
            }
            else
            {
                plan = Moe2Planner.PlanWithQuality(suitability.Scores, candidates, searchBudget, overheads, answerOptions, Recruiter.Profiles.Experts, Weight);
            }
        }
        else
        {
            // Unconstrained, the best set by summed suitability is exactly the top-k recruits.
            plan = Moe2Planner.PlanWithQuality(suitability.Scores, candidates, searchBudget, overheads, answerOptions, Recruiter.Profiles.Experts, Weight);
        }

        if (aggregator is not null && plan.Responders.Count >= 2)
        {
            plan = plan with { Aggregator = 0 };
        }

        return new SymbolicPlan(plan, skills, recruitment);
    }
}
