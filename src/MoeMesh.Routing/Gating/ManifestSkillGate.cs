using MoeMesh.Experts;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Gating;

/// <summary>Settings for <see cref="ManifestSkillGate"/>: priors for experts that have no recorded history.</summary>
public sealed record ManifestGateOptions
{
    /// <summary>Prior probability of being right for a 7B-parameter general model.</summary>
    public double BaseQuality { get; init; } = 0.35;

    /// <summary>Added per doubling of active parameters above 7B (subtracted below): bigger models tend to be right more often.</summary>
    public double QualityPerDoubling { get; init; } = 0.05;

    /// <summary>Added when one of the query's skills matches one of the expert's skill tags.</summary>
    public double SkillMatchBonus { get; init; } = 0.1;

    /// <summary>Scores stay within [Floor, Ceiling].</summary>
    public double Floor { get; init; } = 0.05;

    /// <summary>Scores stay within [Floor, Ceiling].</summary>
    public double Ceiling { get; init; } = 0.9;

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(Floor >= 0 && Floor < Ceiling && Ceiling <= 1))
        {
            problems.Add($"need 0 ≤ Floor < Ceiling ≤ 1, got {Floor} and {Ceiling}");
        }

        if (!double.IsFinite(BaseQuality) || BaseQuality < 0 || BaseQuality > 1)
        {
            problems.Add($"BaseQuality must be a probability, got {BaseQuality}");
        }

        if (!double.IsFinite(QualityPerDoubling) || !double.IsFinite(SkillMatchBonus) || SkillMatchBonus < 0)
        {
            problems.Add("QualityPerDoubling must be finite and SkillMatchBonus finite and not negative");
        }

        return problems;
    }
}

/// <summary>
/// A gate for experts without recorded history: a prior from the expert's size, raised when the
/// query's skills match the skill tags of its manifest. It lets a newly deployed expert be routed
/// to until measured answers train the <see cref="LogisticGate"/>. Immutable; safe for concurrent use.
/// </summary>
public sealed class ManifestSkillGate : IQualityEstimator
{
    private readonly ExpertManifest[] _manifests;
    private readonly TrigramKeywordMatcher[] _matchers;
    private readonly LexicalSkillExtractor? _skills;

    /// <summary>
    /// Creates a gate over <paramref name="manifests"/>; <paramref name="skills"/> finds query skills
    /// when the query carries none (a model-backed extractor should run before the gate and pass
    /// its skills in the <see cref="GateQuery"/>, since scoring is synchronous).
    /// </summary>
    public ManifestSkillGate(IReadOnlyList<ExpertManifest> manifests, LexicalSkillExtractor? skills = null, ManifestGateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        Options = options ?? new ManifestGateOptions();
        var problems = Options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid manifest gate options: {string.Join("; ", problems)}", nameof(options));
        }

        if (manifests.Count == 0)
        {
            throw new ArgumentException("the gate needs at least one expert manifest", nameof(manifests));
        }

        _manifests = manifests.ToArray();
        _matchers = _manifests.Select(m => new TrigramKeywordMatcher(m.Skills, minSimilarity: 0.5)).ToArray();
        _skills = skills;
        Experts = _manifests.Select(m => m.Id).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Experts { get; }

    /// <summary>The priors in use.</summary>
    public ManifestGateOptions Options { get; }

    /// <inheritdoc />
    public void Estimate(GateQuery query, Span<double> quality)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (quality.Length < _manifests.Length)
        {
            throw new ArgumentException($"the score span has {quality.Length} entries but the gate scores {_manifests.Length} experts", nameof(quality));
        }

        var querySkills = query.Skills ?? _skills?.Extract(query.Text) ?? [];
        for (var e = 0; e < _manifests.Length; e++)
        {
            var active = Math.Max(1, _manifests[e].ActiveParameters);

            // The size prior is bounded first so a skill match still counts for very small or very large models.
            var score = Math.Clamp(Options.BaseQuality + (Options.QualityPerDoubling * Math.Log2(active / 7e9)), Options.Floor, Options.Ceiling);
            if (querySkills.Any(s => _matchers[e].Match(s).Keyword is not null))
            {
                score += Options.SkillMatchBonus;
            }

            quality[e] = Math.Min(score, Options.Ceiling);
        }
    }
}

/// <summary>
/// Scores experts with a trained gate where it knows them and with a fallback (usually
/// <see cref="ManifestSkillGate"/>) for the rest, in one expert order.
/// </summary>
public sealed class CompositeGate : IQualityEstimator
{
    private readonly IQualityEstimator _primary;
    private readonly IQualityEstimator _fallback;
    private readonly (bool Primary, int Index)[] _sources;

    /// <summary>Scores <paramref name="experts"/>: from <paramref name="primary"/> when it has them, else from <paramref name="fallback"/>.</summary>
    public CompositeGate(IReadOnlyList<string> experts, IQualityEstimator primary, IQualityEstimator fallback)
    {
        ArgumentNullException.ThrowIfNull(experts);
        _primary = primary ?? throw new ArgumentNullException(nameof(primary));
        _fallback = fallback ?? throw new ArgumentNullException(nameof(fallback));
        _sources = new (bool, int)[experts.Count];
        for (var e = 0; e < experts.Count; e++)
        {
            var p = IndexOf(primary.Experts, experts[e]);
            var f = IndexOf(fallback.Experts, experts[e]);
            _sources[e] = p >= 0
                ? (true, p)
                : f >= 0 ? (false, f) : throw new ArgumentException($"no gate scores expert '{experts[e]}'", nameof(experts));
        }

        Experts = experts.ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Experts { get; }

    /// <inheritdoc />
    public void Estimate(GateQuery query, Span<double> quality)
    {
        Span<double> fromPrimary = stackalloc double[_primary.Experts.Count];
        Span<double> fromFallback = stackalloc double[_fallback.Experts.Count];
        _primary.Estimate(query, fromPrimary);
        _fallback.Estimate(query, fromFallback);
        for (var e = 0; e < _sources.Length; e++)
        {
            quality[e] = _sources[e].Primary ? fromPrimary[_sources[e].Index] : fromFallback[_sources[e].Index];
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], item, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
