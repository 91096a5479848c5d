using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Symbolic;

/// <summary>How experts are drawn from their suitability scores.</summary>
public enum RecruitMode
{
    /// <summary>The k best-scoring experts, each once; deterministic.</summary>
    TopK = 0,

    /// <summary>As in the paper: k draws with replacement from a softmax over scores (temperature 0.5); an expert drawn twice counts twice.</summary>
    Sample = 1,
}

/// <summary>Settings for <see cref="SkillRecruiter"/>.</summary>
public sealed record RecruitOptions
{
    /// <summary>Pseudo-answers shrinking a keyword's rate toward the expert's global rate.</summary>
    public double Smoothing { get; init; } = 20;

    /// <summary>Softmax temperature of <see cref="RecruitMode.Sample"/>, over standardised scores.</summary>
    public double Temperature { get; init; } = 0.5;

    /// <summary>Problems with the options; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!double.IsFinite(Smoothing) || Smoothing < 0)
        {
            problems.Add($"Smoothing must be zero or more, got {Smoothing}");
        }

        if (!double.IsFinite(Temperature) || Temperature <= 0)
        {
            problems.Add($"Temperature must be positive, got {Temperature}");
        }

        return problems;
    }
}

/// <summary>One recruited expert.</summary>
/// <param name="Expert">Index in the profile's expert list.</param>
/// <param name="Name">The expert's name.</param>
/// <param name="Score">Its suitability for the query (local × global competence).</param>
/// <param name="Count">How many times it was drawn (1 for top-k).</param>
public sealed record RecruitedExpert(int Expert, string Name, double Score, int Count);

/// <summary>Every expert's suitability for one query.</summary>
/// <param name="Local">Smoothed rate of right answers on the matched keywords (the global rate when none matched).</param>
/// <param name="Global">Rate of right answers over all keywords.</param>
/// <param name="Scores">Local × global: what recruiting ranks by.</param>
/// <param name="MatchedKeywords">The profile keywords the query's keywords were matched to.</param>
public sealed record SkillSuitability(double[] Local, double[] Global, double[] Scores, IReadOnlyList<string> MatchedKeywords);

/// <summary>The outcome of recruiting for one query.</summary>
/// <param name="Experts">The recruited experts, best score first.</param>
/// <param name="MatchedKeywords">The profile keywords the query's keywords were matched to.</param>
/// <param name="Suitability">Every expert's suitability, in profile order.</param>
public sealed record Recruitment(IReadOnlyList<RecruitedExpert> Experts, IReadOnlyList<string> MatchedKeywords, SkillSuitability Suitability);

/// <summary>
/// Recruits experts for a query from its keywords (Symbolic-MoE): each keyword is matched to the
/// nearest profile keyword; an expert's local suitability is its (smoothed) rate of right answers
/// on the matched keywords, its global competence its rate over all keywords, and its score their
/// product. Rates stand in for the paper's raw ±1 sums so that experts below 50% accuracy (every
/// edge model on MMLU-Pro) do not get negative competences whose product would favour the weakest.
/// Immutable; safe for concurrent use (sampling takes the caller's <see cref="Random"/>).
/// </summary>
public sealed class SkillRecruiter
{
    /// <summary>Creates a recruiter; throws when the options are invalid.</summary>
    public SkillRecruiter(ExpertSkillProfiles profiles, IKeywordMatcher? matcher = null, RecruitOptions? options = null)
    {
        Profiles = profiles ?? throw new ArgumentNullException(nameof(profiles));
        Matcher = matcher ?? new TrigramKeywordMatcher(profiles.Keywords);
        Options = options ?? new RecruitOptions();
        var problems = Options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"invalid recruiting options: {string.Join("; ", problems)}", nameof(options));
        }
    }

    /// <summary>The profiles recruited from.</summary>
    public ExpertSkillProfiles Profiles { get; }

    /// <summary>Maps query keywords to profile keywords.</summary>
    public IKeywordMatcher Matcher { get; }

    /// <summary>The settings in use.</summary>
    public RecruitOptions Options { get; }

    /// <summary>Every expert's suitability for a query with these keywords, and the profile keywords they matched.</summary>
    public SkillSuitability Suitability(IReadOnlyList<string> keywords)
    {
        ArgumentNullException.ThrowIfNull(keywords);
        var matched = new List<int>();
        foreach (var keyword in keywords)
        {
            var match = Matcher.Match(keyword);
            var index = match.Keyword is null ? -1 : Profiles.KeywordIndex(match.Keyword);
            if (index >= 0 && !matched.Contains(index))
            {
                matched.Add(index);
            }
        }

        var experts = Profiles.Experts.Count;
        var scores = new double[experts];
        var locals = new double[experts];
        var globals = new double[experts];
        for (var e = 0; e < experts; e++)
        {
            var global = Profiles.GlobalRate(e);
            var local = global;
            if (matched.Count > 0)
            {
                local = 0;
                foreach (var k in matched)
                {
                    local += Profiles.KeywordRate(e, k, Options.Smoothing);
                }

                local /= matched.Count;
            }

            locals[e] = local;
            globals[e] = global;
            scores[e] = local * global;
        }

        return new SkillSuitability(locals, globals, scores, matched.Select(k => Profiles.Keywords[k]).ToArray());
    }

    /// <summary>Recruits <paramref name="k"/> experts; <paramref name="random"/> is required for <see cref="RecruitMode.Sample"/>.</summary>
    public Recruitment Recruit(IReadOnlyList<string> keywords, int k, RecruitMode mode = RecruitMode.TopK, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var suitability = Suitability(keywords);
        var scores = suitability.Scores;
        var experts = scores.Length;
        var counts = new int[experts];
        if (mode == RecruitMode.TopK)
        {
            foreach (var e in RankByScore(scores).Take(k))
            {
                counts[e] = 1;
            }
        }
        else if (mode == RecruitMode.Sample)
        {
            if (random is null)
            {
                throw new ArgumentNullException(nameof(random), "sampled recruiting needs a Random (seed it for reproducible runs)");
            }

            var probabilities = SamplingProbabilities(scores, Options.Temperature);
            for (var draw = 0; draw < k; draw++)
            {
                var u = random.NextDouble();
                var chosen = experts - 1;
                for (var e = 0; e < experts; e++)
                {
                    u -= probabilities[e];
                    if (u < 0)
                    {
                        chosen = e;
                        break;
                    }
                }

                counts[chosen]++;
            }
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown recruiting mode");
        }

        var recruited = RankByScore(scores)
            .Where(e => counts[e] > 0)
            .Select(e => new RecruitedExpert(e, Profiles.Experts[e], scores[e], counts[e]))
            .ToArray();
        return new Recruitment(recruited, suitability.MatchedKeywords, suitability);
    }

    /// <summary>Softmax over standardised scores at <paramref name="temperature"/> (standardising makes the temperature mean the same whatever the score scale).</summary>
    public static double[] SamplingProbabilities(IReadOnlyList<double> scores, double temperature)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var n = scores.Count;
        var mean = scores.Average();
        var spread = Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / n);
        var probabilities = new double[n];
        var max = double.NegativeInfinity;
        for (var e = 0; e < n; e++)
        {
            probabilities[e] = (spread > 0 ? (scores[e] - mean) / spread : 0) / temperature;
            max = Math.Max(max, probabilities[e]);
        }

        var sum = 0.0;
        for (var e = 0; e < n; e++)
        {
            probabilities[e] = Math.Exp(probabilities[e] - max);
            sum += probabilities[e];
        }

        for (var e = 0; e < n; e++)
        {
            probabilities[e] /= sum;
        }

        return probabilities;
    }

    private static IEnumerable<int> RankByScore(double[] scores)
        => Enumerable.Range(0, scores.Length).OrderByDescending(e => scores[e]).ThenBy(e => e);
}
