using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Gating;

/// <summary>
/// The trained gate: one logistic regression per expert over shared query features, giving each
/// expert's probability of answering right. Fitted once on all experts
/// (<see cref="LogisticGateTrainer"/>); restricting it to a subset just reads fewer scores.
/// Immutable once built; safe for concurrent use.
/// </summary>
public sealed class LogisticGate : IQualityEstimator
{
    private readonly float[] _wordWeights;   // [feature * experts + expert]
    private readonly double[] _denseWeights; // [dense * experts + expert]

    internal LogisticGate(GateFeaturizer featurizer, IReadOnlyList<string> experts, float[] wordWeights, double[] denseWeights)
    {
        Featurizer = featurizer;
        Experts = experts;
        _wordWeights = wordWeights;
        _denseWeights = denseWeights;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Experts { get; }

    /// <summary>How queries become features.</summary>
    public GateFeaturizer Featurizer { get; }

    /// <inheritdoc />
    public void Estimate(GateQuery query, Span<double> quality)
    {
        ArgumentNullException.ThrowIfNull(query);
        var posterior = query.SkillPosterior is { } known && ReferenceEquals(known.Model, Featurizer.Skills) ? known : null;
        Estimate(Featurizer.Featurize(query.Text, posterior, query.Embedding), quality);
    }

    /// <summary>Scores features already computed (lets a caller featurize once for several uses).</summary>
    public void Estimate(GateFeatureVector features, Span<double> quality)
    {
        ArgumentNullException.ThrowIfNull(features);
        var experts = Experts.Count;
        if (quality.Length < experts)
        {
            throw new ArgumentException($"the score span has {quality.Length} entries but the gate scores {experts} experts", nameof(quality));
        }

        Logits(features, _wordWeights, _denseWeights, experts, quality);
        for (var e = 0; e < experts; e++)
        {
            quality[e] = Sigmoid(quality[e]);
        }
    }

    internal static void Logits(GateFeatureVector features, float[] wordWeights, double[] denseWeights, int experts, Span<double> logits)
    {
        logits[..experts].Clear();
        var indices = features.Words.Indices;
        var values = features.Words.Values;
        for (var n = 0; n < indices.Length; n++)
        {
            var row = wordWeights.AsSpan(indices[n] * experts, experts);
            var v = values[n];
            for (var e = 0; e < experts; e++)
            {
                logits[e] += row[e] * v;
            }
        }

        var dense = features.Dense;
        for (var j = 0; j < dense.Length; j++)
        {
            var d = dense[j];
            if (d == 0)
            {
                continue;
            }

            var row = denseWeights.AsSpan(j * experts, experts);
            for (var e = 0; e < experts; e++)
            {
                logits[e] += row[e] * d;
            }
        }
    }

    internal static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    internal void Write(BinaryWriter writer)
    {
        writer.Write(Featurizer.Words.Options.HashBits);
        writer.Write(Featurizer.Words.Options.Bigrams);
        writer.Write(Featurizer.EmbeddingDimension);
        writer.Write(Featurizer.Skills is not null);
        Featurizer.Skills?.Write(writer);
        FitIo.WriteStrings(writer, Experts);
        FitIo.WriteArray(writer, _wordWeights);
        FitIo.WriteArray(writer, _denseWeights);
    }

    internal static LogisticGate Read(BinaryReader reader)
    {
        var words = new TextFeaturizerOptions { HashBits = reader.ReadInt32(), Bigrams = reader.ReadBoolean() };
        if (words.Validate().Count > 0)
        {
            throw new InvalidDataException($"the gate's word hashing is invalid: {string.Join("; ", words.Validate())}");
        }

        var embeddingDimension = FitIo.ReadCount(reader, 65_536);
        var skills = reader.ReadBoolean() ? Skills.LexicalSkillExtractor.Read(reader) : null;
        var featurizer = new GateFeaturizer(new TextFeaturizer(words), skills, embeddingDimension);
        var experts = FitIo.ReadStrings(reader);
        var wordWeights = FitIo.ReadArray<float>(reader);
        var denseWeights = FitIo.ReadArray<double>(reader);
        if (experts.Length == 0 || wordWeights.Length != featurizer.Words.Dimension * experts.Length || denseWeights.Length != featurizer.DenseCount * experts.Length)
        {
            throw new InvalidDataException("the gate's weights do not match its features and experts");
        }

        return new LogisticGate(featurizer, experts, wordWeights, denseWeights);
    }
}
