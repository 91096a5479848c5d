using MoeMesh.Routing.Skills;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Gating;

/// <summary>A query's gate features: hashed words plus dense ones (subject and topic probabilities, shape, sentence embedding).</summary>
public sealed record GateFeatureVector(SparseVector Words, double[] Dense);

/// <summary>
/// Builds gate features from text: hashed unigrams and bigrams, the lexical skill model's subject
/// and topic probabilities, the text's shape (length, share of digits and formula symbols) and,
/// when the gate was trained with them, the question's sentence embedding. Immutable and safe for
/// concurrent use.
/// </summary>
public sealed class GateFeaturizer
{
    private const int ShapeFeatures = 4;

    /// <summary>
    /// Creates a featurizer; <paramref name="skills"/> may be null to use words and shape only;
    /// <paramref name="embeddingDimension"/> is the length of the sentence embeddings it reads, 0 for none.
    /// </summary>
    public GateFeaturizer(TextFeaturizer words, LexicalSkillExtractor? skills, int embeddingDimension = 0)
    {
        Words = words ?? throw new ArgumentNullException(nameof(words));
        ArgumentOutOfRangeException.ThrowIfNegative(embeddingDimension);
        Skills = skills;
        EmbeddingDimension = embeddingDimension;
        EmbeddingOffset = 1 + ShapeFeatures + (skills is null ? 0 : skills.CategoryLabels.Count + skills.TopicLabels.Count);
        DenseCount = EmbeddingOffset + embeddingDimension;
        _embeddingScale = Math.Sqrt(Math.Max(1, embeddingDimension));
    }

    private readonly double _embeddingScale;

    /// <summary>Length of the sentence embedding the gate reads; 0 when it reads none.</summary>
    public int EmbeddingDimension { get; }

    /// <summary>Where the embedding starts among the dense features.</summary>
    public int EmbeddingOffset { get; }

    /// <summary>The word hasher.</summary>
    public TextFeaturizer Words { get; }

    /// <summary>The skill model whose probabilities are features, if any.</summary>
    public LexicalSkillExtractor? Skills { get; }

    /// <summary>Number of dense features (bias first).</summary>
    public int DenseCount { get; }

    /// <summary>The features of <paramref name="text"/>, with skill probabilities from <see cref="Skills"/>.</summary>
    public GateFeatureVector Featurize(string text, float[]? embedding = null)
        => Featurize(text, Skills?.Posterior(text), embedding);

    /// <summary>The features of <paramref name="text"/> with the given skill probabilities (cross-fitted ones during training).</summary>
    public GateFeatureVector Featurize(string text, SkillPosterior? posterior, float[]? embedding = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (EmbeddingDimension > 0 && (embedding is null || embedding.Length != EmbeddingDimension))
        {
            throw new ArgumentException(
                embedding is null
                    ? $"this gate reads the question's sentence embedding ({EmbeddingDimension} dimensions), and none was given"
                    : $"the embedding has {embedding.Length} dimensions, but the gate was trained on {EmbeddingDimension}",
                nameof(embedding));
        }

        var dense = new double[DenseCount];
        dense[0] = 1;
        var digits = 0;
        var symbols = 0;
        foreach (var ch in text)
        {
            if (char.IsDigit(ch))
            {
                digits++;
            }
            else if (ch is '=' or '^' or '+' or '*' or '/' or '\\' or '$' or '%')
            {
                symbols++;
            }
        }

        var length = Math.Max(1, text.Length);
        dense[1] = Math.Log(length) / 8;
        dense[2] = Math.Min(1, 10.0 * digits / length);
        dense[3] = Math.Min(1, 20.0 * symbols / length);
        dense[4] = Math.Min(1, CountOptions(text) / 10.0);
        if (Skills is not null)
        {
            posterior ??= Skills.Posterior(text);
            posterior.Categories.CopyTo(dense, 1 + ShapeFeatures);
            posterior.Topics.CopyTo(dense, 1 + ShapeFeatures + posterior.Categories.Length);
        }

        // Unit-length embeddings have tiny components; scaling gives them the range of the other features.
        for (var d = 0; d < EmbeddingDimension; d++)
        {
            dense[EmbeddingOffset + d] = embedding![d] * _embeddingScale;
        }

        return new GateFeatureVector(Words.Featurize(text), dense);
    }

    // Options are lines starting "A. ", "B. ", … in the prompt text.
    private static int CountOptions(string text)
    {
        var count = 0;
        var index = 0;
        while ((index = text.IndexOf('\n', index)) >= 0 && index + 3 < text.Length)
        {
            if (text[index + 1] == (char)('A' + count) && text[index + 2] == '.')
            {
                count++;
            }

            index++;
        }

        return count;
    }
}
