namespace MoeMesh.Routing.Selection;

/// <summary>The branch and bound's state: inputs, work buffers on the caller's stack, and the incumbent.</summary>
internal ref struct SubsetSearch(
    ReadOnlySpan<SelectionCandidate> candidates,
    ReadOnlySpan<double> utility,
    ReadOnlySpan<double> weight,
    ReadOnlySpan<int> order,
    ReadOnlySpan<double> prefix,
    Span<double> paths,
    Span<int> pathUse,
    ReadOnlySpan<double> pathOverhead,
    Span<int> chosen,
    Span<int> best,
    Span<double> voteProbabilities,
    Span<double> voteWeights)
{
    public readonly ReadOnlySpan<SelectionCandidate> Candidates = candidates;
    public readonly ReadOnlySpan<double> Utility = utility;
    public readonly ReadOnlySpan<double> Weight = weight;
    public readonly Span<double> VoteProbabilities = voteProbabilities;
    public readonly Span<double> VoteWeights = voteWeights;
    public readonly ReadOnlySpan<int> Order = order;
    public readonly ReadOnlySpan<double> Prefix = prefix;
    public readonly Span<double> Paths = paths;
    public readonly Span<int> PathUse = pathUse;
    public readonly ReadOnlySpan<double> PathOverhead = pathOverhead;
    public readonly Span<int> Chosen = chosen;
    public readonly Span<int> Best = best;
    public SubsetObjective Objective;
    public double Coincidence;
    public int MaxExperts;
    public double LatencyLimit;
    public double EnergyLimit;
    public double CombineLatency;
    public double CombineEnergy;
    public double BestQuality;
    public int BestCount;
    public double BestLatency;
    public double BestEnergy;
    public int Nodes;

    /// <summary>Set quality from the utility sum; an upper bound of the vote's accuracy for <see cref="SubsetObjective.VoteAccuracy"/>.</summary>
    public readonly double Bound(double utilitySum)
        => Objective == SubsetObjective.ExpectedCorrect ? utilitySum : 1 - Math.Exp(-utilitySum);

    /// <summary>The quality of the set in <see cref="Chosen"/>[..count].</summary>
    public readonly double Value(double utilitySum, int count)
    {
        if (Objective != SubsetObjective.VoteAccuracy)
        {
            return Bound(utilitySum);
        }

        for (var r = 0; r < count; r++)
        {
            VoteProbabilities[r] = Candidates[Chosen[r]].Quality;
            VoteWeights[r] = Weight[Chosen[r]];
        }

        return VoteAccuracy.Expected(VoteProbabilities[..count], VoteWeights[..count], Coincidence);
    }
}
