using System.Collections.Concurrent;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Skills;

/// <summary>
/// Matches a keyword to the profile keyword nearest in meaning, by cosine similarity of sentence
/// embeddings (as Symbolic-MoE matches a question's skills to its profiles). Vectors come from the
/// host's embedder through <c>vectorOf</c>; the profile keywords' vectors are taken once, and a
/// query keyword's vector is remembered after its first use. Safe for concurrent use.
/// </summary>
public sealed class EmbeddingKeywordMatcher : IKeywordMatcher
{
    private const int MaxRemembered = 10_000;
    private readonly string[] _keywords;
    private readonly float[][] _vectors;
    private readonly Func<string, float[]> _vectorOf;
    private readonly ConcurrentDictionary<string, KeywordMatch> _seen = new(StringComparer.Ordinal);

    /// <summary>Creates the matcher over <paramref name="vocabulary"/>; below <paramref name="minSimilarity"/> a keyword matches nothing.</summary>
    public EmbeddingKeywordMatcher(IEnumerable<string> vocabulary, Func<string, float[]> vectorOf, double minSimilarity = 0.5)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vectorOf = vectorOf ?? throw new ArgumentNullException(nameof(vectorOf));
        if (!double.IsFinite(minSimilarity) || minSimilarity < -1 || minSimilarity > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minSimilarity), minSimilarity, "the similarity threshold must be between -1 and 1");
        }

        MinSimilarity = minSimilarity;
        _keywords = vocabulary.Select(KeywordText.Normalize).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _vectors = _keywords.Select(Vector).ToArray();
        if (_vectors.Select(v => v.Length).Distinct().Count() > 1)
        {
            throw new ArgumentException("the keyword vectors differ in length", nameof(vectorOf));
        }
    }

    /// <summary>The similarity a match needs.</summary>
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

        // Free-text keywords from a model are open-ended: remember a bounded number of them.
        return _seen.TryGetValue(normalized, out var known) ? known
            : _seen.Count < MaxRemembered ? _seen.GetOrAdd(normalized, Nearest)
            : Nearest(normalized);
    }

    private KeywordMatch Nearest(string normalized)
    {
        var index = Array.BinarySearch(_keywords, normalized, StringComparer.Ordinal);
        if (index >= 0)
        {
            return new KeywordMatch(_keywords[index], 1);
        }

        var query = Vector(normalized);
        var best = -1;
        var bestSimilarity = double.NegativeInfinity;
        for (var k = 0; k < _vectors.Length; k++)
        {
            var similarity = QuestionEmbeddings.Similarity(query, _vectors[k]);
            if (similarity > bestSimilarity)
            {
                best = k;
                bestSimilarity = similarity;
            }
        }

        return best >= 0 && bestSimilarity >= MinSimilarity ? new KeywordMatch(_keywords[best], bestSimilarity) : new KeywordMatch(null, Math.Max(0, bestSimilarity));
    }

    private float[] Vector(string text)
        => _vectorOf(text) ?? throw new InvalidOperationException($"the embedder returned no vector for '{text}'");
}
