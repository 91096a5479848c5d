using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Symbolic;

namespace MoeMesh.Evaluation.Policies;

/// <summary>Symbolic-MoE: lexical skills, recruiting by competence, budgeted plan, vote or aggregator.</summary>
public sealed class SymbolicPolicy : IRoutingPolicy
{
    private readonly LexicalSkillExtractor _skills;
    private readonly SymbolicPlanner _planner;
    private readonly RoutingEnvironment _environment;
    private readonly int? _aggregator;
    private readonly int _seed;

    /// <summary>Creates the policy; <paramref name="aggregator"/> is the aggregator's expert index, or null to vote.</summary>
    public SymbolicPolicy(string name, LexicalSkillExtractor skills, SkillRecruiter recruiter, RecruitMode mode, RoutingEnvironment environment, int? aggregator, int seed)
    {
        Name = name;
        _skills = skills ?? throw new ArgumentNullException(nameof(skills));
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        ArgumentNullException.ThrowIfNull(recruiter);
        if (!recruiter.Profiles.Experts.SequenceEqual(environment.Experts, StringComparer.Ordinal))
        {
            throw new ArgumentException("the profiles must cover the pool's experts in the pool's order", nameof(recruiter));
        }

        _planner = new SymbolicPlanner(skills, recruiter, mode);
        _aggregator = aggregator;
        _seed = seed;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool BudgetAware => true;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var found = _skills.Extract(query.Text);
        var aggregatorCandidate = _aggregator is { } a ? _environment.AggregatorCandidate(query.PromptChars, a, query.Budget.MaxExperts) : (Routing.Selection.PlanningCandidate?)null;
        var random = _planner.Mode == RecruitMode.Sample ? new Random(unchecked((_seed * 1_000_003) + query.QuestionId)) : null;
        var plan = _planner.Plan(found, query.Candidates, query.Budget, aggregatorCandidate, random, query.AnswerOptions).Plan;
        return plan.Aggregator is not null
            ? new PolicyDecision(plan, AnswerCombination.Aggregator, _aggregator)
            : new PolicyDecision(plan);
    }
}
