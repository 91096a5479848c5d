using System.Numerics;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Skills;

/// <summary>
/// A multinomial naive-Bayes text classifier over word presence (each word counted once per text),
/// with add-α smoothing. Small, deterministic and fast; immutable once fitted and safe for
/// concurrent use.
/// </summary>
public sealed class TopicClassifier
{
    private readonly Dictionary<uint, int> _featureRow;
    private readonly float[] _logLikelihood; // [feature row * labels + label], as fitted and saved
    private readonly double[] _rows;         // the same, widened once so a word's row adds as vectors
    private readonly double[] _logPrior;

    private TopicClassifier(IReadOnlyList<string> labels, Dictionary<uint, int> featureRow, float[] logLikelihood, double[] logPrior)
    {
        Labels = labels;
        _featureRow = featureRow;
        _logLikelihood = logLikelihood;
        _rows = Array.ConvertAll(logLikelihood, v => (double)v);
        _logPrior = logPrior;
    }

    /// <summary>The labels, in the order of <see cref="Posterior"/>.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Fits on (text, label) pairs; words seen fewer than <paramref name="minWordCount"/> times are ignored.</summary>
    public static TopicClassifier Fit(IReadOnlyList<(string Text, string Label)> examples, double alpha = 0.5, int minWordCount = 2)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0)
        {
            throw new ArgumentException("a topic classifier needs at least one example", nameof(examples));
        }

        if (!double.IsFinite(alpha) || alpha <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "smoothing must be positive");
        }

        var labels = examples.Select(e => e.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var labelIndex = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        var documents = new List<(uint[] Words, int Label)>(examples.Count);
        var wordCounts = new Dictionary<uint, int>();
        foreach (var (text, label) in examples)
        {
            var words = TextFeaturizer.Tokenize(text).Distinct().ToArray();
            documents.Add((words, labelIndex[label]));
            foreach (var w in words)
            {
                wordCounts[w] = wordCounts.GetValueOrDefault(w) + 1;
            }
        }

        var featureRow = new Dictionary<uint, int>();
        foreach (var (word, count) in wordCounts.OrderBy(p => p.Key))
        {
            if (count >= minWordCount)
            {
                featureRow[word] = featureRow.Count;
            }
        }

        var l = labels.Length;
        var counts = new double[featureRow.Count * l];
        var totals = new double[l];
        var docsPerLabel = new double[l];
        foreach (var (words, label) in documents)
        {
            docsPerLabel[label]++;
            foreach (var w in words)
            {
                if (featureRow.TryGetValue(w, out var row))
                {
                    counts[(row * l) + label]++;
                    totals[label]++;
                }
            }
        }

        var vocabulary = featureRow.Count + 1;
        var likelihood = new float[counts.Length];
        for (var c = 0; c < l; c++)
        {
            var denominator = totals[c] + (alpha * vocabulary);
            for (var row = 0; row < featureRow.Count; row++)
            {
                likelihood[(row * l) + c] = (float)Math.Log((counts[(row * l) + c] + alpha) / denominator);
            }
        }

        var prior = docsPerLabel.Select(d => Math.Log((d + 1) / (documents.Count + l))).ToArray();
        return new TopicClassifier(labels, featureRow, likelihood, prior);
    }

    /// <summary>
    /// Label probabilities for <paramref name="text"/>, in the order of <see cref="Labels"/>. The
    /// log-likelihood is divided by <paramref name="temperature"/> (above 1 softens naive Bayes' overconfidence).
    /// </summary>
    public double[] Posterior(string text, double temperature = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Posterior(DistinctTokens(text), temperature);
    }

    /// <summary>The distinct word hashes of <paramref name="text"/>, the input of <see cref="Posterior(IReadOnlyCollection{uint}, double)"/>.</summary>
    public static HashSet<uint> DistinctTokens(string text) => new(TextFeaturizer.Tokenize(text)); // sized once from the list

    /// <summary>Label probabilities from distinct word hashes (tokenise once, classify several ways).</summary>
    public double[] Posterior(IReadOnlyCollection<uint> distinctWords, double temperature = 1)
    {
        ArgumentNullException.ThrowIfNull(distinctWords);
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive");
        }

        var l = Labels.Count;
        var scores = new double[l];
        foreach (var w in distinctWords)
        {
            if (_featureRow.TryGetValue(w, out var row))
            {
                AddRow(scores, _rows.AsSpan(row * l, l));
            }
        }

        var max = double.NegativeInfinity;
        for (var c = 0; c < l; c++)
        {
            scores[c] = (scores[c] / temperature) + _logPrior[c];
            max = Math.Max(max, scores[c]);
        }

        var sum = 0.0;
        for (var c = 0; c < l; c++)
        {
            scores[c] = Math.Exp(scores[c] - max);
            sum += scores[c];
        }

        for (var c = 0; c < l; c++)
        {
            scores[c] /= sum;
        }

        return scores;
    }

    /// <summary>Adds a word's row to the scores; each label's sum runs over the words in the same order as a scalar loop, so results are identical.</summary>
    private static void AddRow(Span<double> scores, ReadOnlySpan<double> row)
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; c <= row.Length - Vector<double>.Count; c += Vector<double>.Count)
            {
                (new Vector<double>(scores[c..]) + new Vector<double>(row[c..])).CopyTo(scores[c..]);
            }
        }

        for (; c < row.Length; c++)
        {
            scores[c] += row[c];
        }
    }

    internal void Write(BinaryWriter writer)
    {
        FitIo.WriteStrings(writer, Labels);
        writer.Write(_featureRow.Count);
        foreach (var (word, row) in _featureRow.OrderBy(p => p.Value))
        {
            writer.Write(word);
            writer.Write(row);
        }

        FitIo.WriteArray(writer, _logLikelihood);
        FitIo.WriteArray(writer, _logPrior);
    }

    internal static TopicClassifier Read(BinaryReader reader)
    {
        var labels = FitIo.ReadStrings(reader);
        var rows = FitIo.ReadCount(reader, 10_000_000);
        var featureRow = new Dictionary<uint, int>(rows);
        for (var i = 0; i < rows; i++)
        {
            featureRow[reader.ReadUInt32()] = reader.ReadInt32();
        }

        var likelihood = FitIo.ReadArray<float>(reader);
        var prior = FitIo.ReadArray<double>(reader);
        if (prior.Length != labels.Length || likelihood.Length != rows * labels.Length || featureRow.Values.Any(r => (uint)r >= (uint)rows))
        {
            throw new InvalidDataException("the topic classifier's tables do not match its labels and words");
        }

        return new TopicClassifier(labels, featureRow, likelihood, prior);
    }
}
