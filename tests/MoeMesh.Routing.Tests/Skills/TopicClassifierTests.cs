using MoeMesh.Routing.Fitting;
using MoeMesh.Routing.Skills;

namespace MoeMesh.Routing.Tests.Skills;

public sealed class TopicClassifierTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(13)]
    public void Posteriors_are_bit_identical_to_adding_each_words_row_one_label_at_a_time(int labels)
    {
        var words = new[] { "matrix", "contract", "enzyme", "orbit", "tariff", "proof", "verdict", "cell", "planet", "market", "lemma", "statute" };
        var examples = Enumerable.Range(0, 400)
            .Select(i => ($"{words[i % words.Length]} {words[(i * 5) % words.Length]} {words[(i * 7) % words.Length]} question {i % 9}", $"label-{i % labels}"))
            .ToArray();
        var classifier = TopicClassifier.Fit(examples);
        var (rows, likelihood, prior) = Tables(classifier);

        foreach (var text in new[] { "matrix enzyme orbit proof", "contract statute verdict tariff market question", "nothing known here" })
        {
            var expected = new double[labels];
            foreach (var w in TopicClassifier.DistinctTokens(text))
            {
                if (rows.TryGetValue(w, out var row))
                {
                    for (var c = 0; c < labels; c++)
                    {
                        expected[c] += likelihood[(row * labels) + c];
                    }
                }
            }

            var max = double.NegativeInfinity;
            for (var c = 0; c < labels; c++)
            {
                expected[c] = (expected[c] / 4) + prior[c];
                max = Math.Max(max, expected[c]);
            }

            var sum = 0.0;
            for (var c = 0; c < labels; c++)
            {
                expected[c] = Math.Exp(expected[c] - max);
                sum += expected[c];
            }

            for (var c = 0; c < labels; c++)
            {
                expected[c] /= sum;
            }

            Assert.Equal(expected, classifier.Posterior(text, temperature: 4));
        }
    }

    /// <summary>The classifier's tables, read back from what it saves.</summary>
    private static (Dictionary<uint, int> Rows, float[] Likelihood, double[] Prior) Tables(TopicClassifier classifier)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            classifier.Write(writer);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        FitIo.ReadStrings(reader);
        var count = reader.ReadInt32();
        var rows = new Dictionary<uint, int>(count);
        for (var i = 0; i < count; i++)
        {
            rows[reader.ReadUInt32()] = reader.ReadInt32();
        }

        return (rows, FitIo.ReadArray<float>(reader), FitIo.ReadArray<double>(reader));
    }
}
