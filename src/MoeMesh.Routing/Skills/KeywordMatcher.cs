namespace MoeMesh.Routing.Skills;

/// <summary>A keyword matched to the nearest keyword of a vocabulary.</summary>
/// <param name="Keyword">The vocabulary keyword, or null when nothing was near enough.</param>
/// <param name="Similarity">How close the match is, 0 to 1 (1 = the same keyword).</param>
public readonly record struct KeywordMatch(string? Keyword, double Similarity);

/// <summary>Maps a query keyword to the nearest keyword that expert profiles know.</summary>
public interface IKeywordMatcher
{
    /// <summary>The nearest profile keyword to <paramref name="keyword"/>.</summary>
    KeywordMatch Match(string keyword);
}

/// <summary>
/// Nearest-keyword matching without a model: the cosine similarity of character trigrams (which
/// tolerates plurals and spelling variants), averaged with word overlap (which rewards sharing a
/// whole word such as "chemistry", or its abbreviation such as "chem"). Deterministic; immutable and safe for concurrent use. A
/// sentence-embedding matcher can replace it through <see cref="IKeywordMatcher"/>.
/// </summary>
public sealed class TrigramKeywordMatcher : IKeywordMatcher
{
    private readonly (string Keyword, Dictionary<string, int> Trigrams, double Norm, HashSet<string> Words)[] _vocabulary;
    private readonly HashSet<string> _exact;

    /// <summary>Creates a matcher over <paramref name="vocabulary"/>; matches below <paramref name="minSimilarity"/> are rejected.</summary>
    public TrigramKeywordMatcher(IEnumerable<string> vocabulary, double minSimilarity = 0.35)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (!double.IsFinite(minSimilarity) || minSimilarity < 0 || minSimilarity > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minSimilarity), minSimilarity, "the similarity threshold must be between 0 and 1");
        }

        MinSimilarity = minSimilarity;
        _vocabulary = vocabulary
            .Select(KeywordText.Normalize)
            .Where(k => k.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(k =>
            {
                var trigrams = Trigrams(k);
                return (k, trigrams, Norm(trigrams), Words(k));
            })
            .ToArray();
        _exact = _vocabulary.Select(v => v.Keyword).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Matches below this similarity count as no match.</summary>
    public double MinSimilarity { get; }

    /// <inheritdoc />
    public KeywordMatch Match(string keyword)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        var normalized = KeywordText.Normalize(keyword);
        if (normalized.Length == 0)
        {
            return new KeywordMatch(null, 0);
        }

        if (_exact.Contains(normalized))
        {
            return new KeywordMatch(normalized, 1);
        }

        var trigrams = Trigrams(normalized);
        var norm = Norm(trigrams);
        var words = Words(normalized);
        string? best = null;
        var bestSimilarity = 0.0;
        foreach (var (candidate, candidateTrigrams, candidateNorm, candidateWords) in _vocabulary)
        {
            var dot = 0.0;
            foreach (var (gram, count) in trigrams)
            {
                if (candidateTrigrams.TryGetValue(gram, out var other))
                {
                    dot += count * other;
                }
            }

            var cosine = norm > 0 && candidateNorm > 0 ? dot / (norm * candidateNorm) : 0;
            var shared = words.Count(w => candidateWords.Any(v => SameWord(w, v)));
            var overlap = shared == 0 ? 0 : shared / (double)Math.Max(words.Count, candidateWords.Count);
            var similarity = (cosine + overlap) / 2;
            if (similarity > bestSimilarity)
            {
                best = candidate;
                bestSimilarity = similarity;
            }
        }

        return bestSimilarity >= MinSimilarity ? new KeywordMatch(best, bestSimilarity) : new KeywordMatch(null, bestSimilarity);
    }

    // Abbreviations share a stem ("math" and "mathematics", "chem" and "chemistry").
    private static bool SameWord(string a, string b)
        => string.Equals(a, b, StringComparison.Ordinal)
           || (Math.Min(a.Length, b.Length) >= 4 && (a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal)));

    private static Dictionary<string, int> Trigrams(string keyword)
    {
        var padded = $"  {keyword} ";
        var grams = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 3 <= padded.Length; i++)
        {
            var gram = padded.Substring(i, 3);
            grams[gram] = grams.GetValueOrDefault(gram) + 1;
        }

        return grams;
    }

    private static double Norm(Dictionary<string, int> grams) => Math.Sqrt(grams.Values.Sum(c => (double)c * c));

    private static HashSet<string> Words(string keyword)
        => keyword.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Stem).ToHashSet(StringComparer.Ordinal);

    // Plurals and "-ics"/"-ical" variants name the same field ("economics", "economic").
    private static string Stem(string word)
        => word.Length > 4 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1] : word;
}
