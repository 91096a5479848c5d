using MoeMesh.Routing.Data;
using MoeMesh.Evaluation.Policies;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Evaluation.Baselines;

/// <summary>Always the one expert with the best accuracy on the training split (the next best when it is unavailable).</summary>
public sealed class BestSinglePolicy : IRoutingPolicy
{
    private readonly IReadOnlyList<string> _experts;

    private readonly int[] _ranking;

    private BestSinglePolicy(IReadOnlyList<string> experts, int[] ranking, double trainAccuracy)
    {
        _experts = experts;
        _ranking = ranking;
        Expert = ranking[0];
        TrainAccuracy = trainAccuracy;
    }

    /// <inheritdoc />
    public string Name => "best-single";

    /// <inheritdoc />
    public bool BudgetAware => false;

    /// <summary>The chosen expert's index in the pool.</summary>
    public int Expert { get; }

    /// <summary>The chosen expert's name.</summary>
    public string ExpertName => _experts[Expert];

    /// <summary>Its accuracy on the training split.</summary>
    public double TrainAccuracy { get; }

    /// <summary>Chooses the expert with the most right answers on the training split (ties: pool order).</summary>
    public static BestSinglePolicy Fit(TrainingSet train, IReadOnlyList<string> experts)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        var accuracy = ExpertAccuracy.Overall(train, experts);
        var ranking = Enumerable.Range(0, experts.Count).OrderByDescending(e => accuracy[e]).ThenBy(e => e).ToArray();
        return new BestSinglePolicy(experts, ranking, accuracy[ranking[0]]);
    }

    /// <inheritdoc />
    public PolicyDecision Decide(RoutingQuery query)
    {
        // When the best expert is unavailable for a question, the next best on the training split stands in.
        foreach (var expert in _ranking)
        {
            var candidate = FixedPlans.TryCheapestPlacement(query, expert);
            if (candidate >= 0)
            {
                return new PolicyDecision(FixedPlans.Create(query, [candidate], [1.0], _experts, $"{_experts[expert]}, the best available single expert on the training split"));
            }
        }

        throw new ArgumentException("the query has no candidates", nameof(query));
    }
}

/// <summary>Accuracy tables learned on the training split.</summary>
public static class ExpertAccuracy
{
    /// <summary>Each expert's share of right answers over the questions it answered.</summary>
    public static double[] Overall(TrainingSet train, IReadOnlyList<string> experts)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        var slots = experts.Select(train.ModelIndex).ToArray();
        var accuracy = new double[experts.Count];
        for (var e = 0; e < experts.Count; e++)
        {
            var right = 0;
            var answered = 0;
            foreach (var question in train.Questions)
            {
                if (question.IsCorrect(slots[e]) is { } correct)
                {
                    answered++;
                    right += correct ? 1 : 0;
                }
            }

            accuracy[e] = answered == 0 ? 0 : right / (double)answered;
        }

        return accuracy;
    }

    /// <summary>Per category, each expert's accuracy shrunk toward its overall accuracy by <paramref name="smoothing"/> pseudo-answers.</summary>
    public static IReadOnlyDictionary<string, double[]> ByCategory(TrainingSet train, IReadOnlyList<string> experts, double smoothing = 10)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(experts);
        var overall = Overall(train, experts);
        var slots = experts.Select(train.ModelIndex).ToArray();
        var table = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var group in train.Questions.GroupBy(q => q.Category, StringComparer.Ordinal))
        {
            var rates = new double[experts.Count];
            for (var e = 0; e < experts.Count; e++)
            {
                var right = 0;
                var answered = 0;
                foreach (var question in group)
                {
                    if (question.IsCorrect(slots[e]) is { } correct)
                    {
                        answered++;
                        right += correct ? 1 : 0;
                    }
                }

                rates[e] = (right + (smoothing * overall[e])) / (answered + smoothing);
            }

            table[group.Key] = rates;
        }

        return table;
    }
}
