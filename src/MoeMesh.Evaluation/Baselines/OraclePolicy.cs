using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Evaluation.Baselines;

/// <summary>
/// The upper bound: it looks at the recorded answers and picks one expert that was right within the
/// budgets (the cheapest such), so it is right whenever any expert that fits the budgets is.
/// The only router that reads answers; it exists to show how much room routing has.
/// </summary>
public sealed class OraclePolicy(IReadOnlyList<string> experts, IReadOnlyList<int> slots, EvaluationSet answers) : IRoutingPolicy
{
    private readonly Dictionary<int, RecordedQuestion> _byId = answers.Questions.ToDictionary(q => q.QuestionId);

    /// <inheritdoc />
    public string Name => "oracle";

    /// <inheritdoc />
    public bool BudgetAware => true;

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!_byId.TryGetValue(query.QuestionId, out var question))
        {
            throw new ArgumentException($"the oracle has no recorded answers for question {query.QuestionId}", nameof(query));
        }

        var best = -1;
        var bestRank = (Right: false, Fits: false, Energy: double.PositiveInfinity);
        for (var i = 0; i < query.Candidates.Length; i++)
        {
            var c = query.Candidates[i];
            var right = question.IsCorrect(slots[c.Expert]) == true;
            var fits = (query.Budget.LatencyMs is not { } l || c.LatencyMs <= l) && (query.Budget.EnergyJoules is not { } j || c.EnergyJoules <= j);
            var rank = (right, fits, c.EnergyJoules);
            if (best < 0 || Better(rank, bestRank))
            {
                best = i;
                bestRank = rank;
            }
        }

        return new PolicyDecision(FixedPlans.Create(query, [best], [1.0], experts, "an expert known to be right (upper bound)"));
    }

    // Within budget first (a budget-aware bound), then right before wrong, then the least energy.
    private static bool Better((bool Right, bool Fits, double Energy) a, (bool Right, bool Fits, double Energy) b)
        => a.Fits != b.Fits ? a.Fits : a.Right != b.Right ? a.Right : a.Energy < b.Energy;
}
