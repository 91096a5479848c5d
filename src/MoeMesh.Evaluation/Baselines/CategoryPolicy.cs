using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Gating;

namespace MoeMesh.Evaluation.Baselines;

/// <summary>
/// The k experts most accurate on the training split within the query's recorded subject category,
/// vote weighted by those accuracies. It reads the category label, which a live query does not
/// carry: a strong reference, not a deployable router.
/// </summary>
public sealed class CategoryPolicy : IRoutingPolicy
{
    private readonly IReadOnlyList<string> _experts;
    private readonly IReadOnlyDictionary<string, double[]> _byCategory;
    private readonly double[] _overall;

    private CategoryPolicy(IReadOnlyList<string> experts, IReadOnlyDictionary<string, double[]> byCategory, double[] overall)
    {
        _experts = experts;
        _byCategory = byCategory;
        _overall = overall;
    }

    /// <inheritdoc />
    public string Name => "category";

    /// <inheritdoc />
    public bool BudgetAware => false;

    /// <summary>Learns per-category accuracies on the training split.</summary>
    public static CategoryPolicy Fit(TrainingSet train, IReadOnlyList<string> experts)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        return new CategoryPolicy(experts, ExpertAccuracy.ByCategory(train, experts), ExpertAccuracy.Overall(train, experts));
    }

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var rates = _byCategory.TryGetValue(query.Category, out var known) ? known : _overall;
        var ranked = Enumerable.Range(0, _experts.Count)
            .Where(e => FixedPlans.TryCheapestPlacement(query, e) >= 0)
            .OrderByDescending(e => rates[e])
            .ThenBy(e => e)
            .Take(query.Budget.MaxExperts)
            .ToArray();
        var chosen = ranked.Select(e => FixedPlans.CheapestPlacement(query, e)).ToArray();
        var weights = ranked.Select(e => WeightedVote.WeightFromProbability(rates[e], query.AnswerOptions)).ToArray();
        return new PolicyDecision(FixedPlans.Create(query, chosen, weights, _experts, $"the best experts for category '{query.Category}' on the training split"));
    }
}
