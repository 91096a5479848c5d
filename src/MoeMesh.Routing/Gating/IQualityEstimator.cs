using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Gating;

/// <summary>A query as a gate sees it: its text and, when already known, its skills and sentence embedding.</summary>
/// <param name="Text">The question with its options, as the experts will read it.</param>
/// <param name="Skills">Skills already extracted for the query; null lets the gate find them if it needs them.</param>
/// <param name="Embedding">The question's sentence embedding (unit length); gates trained on embeddings need it.</param>
public sealed record GateQuery(string Text, IReadOnlyList<string>? Skills = null, float[]? Embedding = null)
{
    /// <summary>
    /// The subject and topic probabilities of <see cref="Text"/>, when the caller already has them
    /// (a gate reads them only when its own skill model made them; otherwise it works them out).
    /// </summary>
    public SkillPosterior? SkillPosterior { get; init; }
}

/// <summary>
/// The fine level of MoE²: scores each expert's chance of answering a query right. Scores of a
/// subset are the scores of its members, so one gate trained on all experts serves every subset
/// the budgeted search considers without retraining.
/// </summary>
public interface IQualityEstimator
{
    /// <summary>The experts scored, in the order of the score span.</summary>
    IReadOnlyList<string> Experts { get; }

    /// <summary>Writes each expert's probability of being right into <paramref name="quality"/> (one entry per expert).</summary>
    void Estimate(GateQuery query, Span<double> quality);
}
