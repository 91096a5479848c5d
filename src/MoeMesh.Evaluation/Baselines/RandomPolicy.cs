using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Evaluation.Baselines;

/// <summary>k experts drawn at random per question (seeded by the question id, so runs repeat), equal-weight vote.</summary>
public sealed class RandomPolicy(IReadOnlyList<string> experts, int seed) : IRoutingPolicy
{
    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public bool BudgetAware => false;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var random = new Random(unchecked((seed * 1_000_003) + query.QuestionId));
        var pool = Enumerable.Range(0, experts.Count).ToArray();
        random.Shuffle(pool);
        var chosen = pool.Select(e => FixedPlans.TryCheapestPlacement(query, e)).Where(c => c >= 0).Take(query.Budget.MaxExperts).ToArray();
        return new PolicyDecision(FixedPlans.Create(query, chosen, chosen.Select(_ => 1.0).ToArray(), experts, "experts drawn at random"));
    }
}
