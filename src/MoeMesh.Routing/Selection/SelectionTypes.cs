namespace MoeMesh.Routing.Selection;

/// <summary>One expert (or one replica of an expert) the selector may choose.</summary>
/// <param name="Quality">
/// The expert's expected quality for this query: its gate probability of being right, or any
/// non-negative score (see <see cref="SubsetObjective"/>).
/// </param>
/// <param name="LatencyMs">Predicted latency of its run, transfer included.</param>
/// <param name="EnergyJoules">Predicted energy of its run.</param>
/// <param name="Device">Index of the device it runs on (0 to 63); runs on one device are sequential.</param>
/// <param name="Group">Candidates sharing a non-negative group are replicas of one expert: at most one is chosen. -1 = its own group.</param>
public readonly record struct SelectionCandidate(double Quality, double LatencyMs, double EnergyJoules, int Device, int Group = -1);

/// <summary>How the quality of a set of experts is built from the experts' own qualities. Both only grow when an expert is added.</summary>
public enum SubsetObjective
{
    /// <summary>The sum of the qualities: the expected number of right answers.</summary>
    ExpectedCorrect = 0,

    /// <summary>1 − Π(1 − q): the chance that at least one chosen expert is right (qualities must be probabilities).</summary>
    AnyCorrect = 1,

    /// <summary>
    /// The chance that the gate-weighted vote of the chosen experts is right (see <see cref="VoteAccuracy"/>).
    /// Not monotone: the search bounds it by <see cref="AnyCorrect"/>, which is. At most
    /// <see cref="VoteAccuracy.MaxVoters"/> experts; qualities must be probabilities.
    /// </summary>
    VoteAccuracy = 2,
}

/// <summary>The limits a plan must respect.</summary>
public sealed record SelectionBudget
{
    /// <summary>The most the plan's latency may be, in milliseconds; null for no limit.</summary>
    public double? LatencyMs { get; init; }

    /// <summary>The most the plan's energy may be, in joules; null for no limit.</summary>
    public double? EnergyJoules { get; init; }

    /// <summary>The most experts the plan may run (k).</summary>
    public int MaxExperts { get; init; } = 3;

    /// <summary>How set quality is formed from expert qualities.</summary>
    public SubsetObjective Objective { get; init; } = SubsetObjective.ExpectedCorrect;

    /// <summary>For <see cref="SubsetObjective.VoteAccuracy"/>: the chance that wrong experts pick the same wrong answer.</summary>
    public double VoteCoincidence { get; init; } = 0.3;

    /// <summary>For <see cref="SubsetObjective.VoteAccuracy"/>: answer options, which set the vote weights.</summary>
    public int AnswerOptions { get; init; } = 10;

    /// <summary>Problems with the budget; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (LatencyMs is { } ms && (!double.IsFinite(ms) || ms <= 0))
        {
            problems.Add($"latency budget must be a positive number of milliseconds, got {ms}");
        }

        if (EnergyJoules is { } j && (!double.IsFinite(j) || j <= 0))
        {
            problems.Add($"energy budget must be a positive number of joules, got {j}");
        }

        if (MaxExperts < 1 || MaxExperts > BudgetedSubsetSelector.MaxCandidates)
        {
            problems.Add($"the most experts (k) must be between 1 and {BudgetedSubsetSelector.MaxCandidates}, got {MaxExperts}");
        }

        if (!Enum.IsDefined(Objective))
        {
            problems.Add($"objective {Objective} is unknown");
        }

        if (Objective == SubsetObjective.VoteAccuracy)
        {
            if (MaxExperts > VoteAccuracy.MaxVoters)
            {
                problems.Add($"the vote-accuracy objective evaluates at most {VoteAccuracy.MaxVoters} experts exactly; k is {MaxExperts}");
            }

            if (!double.IsFinite(VoteCoincidence) || VoteCoincidence < 0 || VoteCoincidence > 1)
            {
                problems.Add($"the vote coincidence must be a probability, got {VoteCoincidence}");
            }

            if (AnswerOptions < 2)
            {
                problems.Add($"a vote needs at least 2 answer options, got {AnswerOptions}");
            }
        }

        return problems;
    }
}

/// <summary>Why no plan meets the budgets, and the cheapest plan there is.</summary>
public sealed record InfeasibleBudget
{
    /// <summary>The budget (or budgets) that cannot be met.</summary>
    public required BindingBudget Binding { get; init; }

    /// <summary>The cheapest possible plan (input indices): the single expert that overshoots the binding budget the least.</summary>
    public required IReadOnlyList<int> CheapestPlan { get; init; }

    /// <summary>Latency of <see cref="CheapestPlan"/>.</summary>
    public required double CheapestLatencyMs { get; init; }

    /// <summary>Energy of <see cref="CheapestPlan"/>.</summary>
    public required double CheapestEnergyJoules { get; init; }

    /// <summary>The lowest latency any plan has.</summary>
    public required double MinimumLatencyMs { get; init; }

    /// <summary>The lowest energy any plan has.</summary>
    public required double MinimumEnergyJoules { get; init; }

    /// <summary>A sentence naming the binding budget and what the cheapest plan would cost.</summary>
    public required string Message { get; init; }
}

/// <summary>The outcome of a budgeted subset search.</summary>
public sealed record SubsetSelection
{
    /// <summary>True when a plan within every budget was found; false means <see cref="Infeasible"/> says why.</summary>
    public required bool Feasible { get; init; }

    /// <summary>The chosen candidates (input indices), best quality first; empty when infeasible.</summary>
    public required IReadOnlyList<int> Chosen { get; init; }

    /// <summary>The set quality of <see cref="Chosen"/> under the budget's objective.</summary>
    public double Quality { get; init; }

    /// <summary>Predicted plan latency of <see cref="Chosen"/>.</summary>
    public double LatencyMs { get; init; }

    /// <summary>Predicted plan energy of <see cref="Chosen"/>.</summary>
    public double EnergyJoules { get; init; }

    /// <summary>Set when no plan meets the budgets.</summary>
    public InfeasibleBudget? Infeasible { get; init; }

    /// <summary>Search nodes expanded (a measure of the work done).</summary>
    public int NodesVisited { get; init; }
}
