namespace MoeMesh.Embeddings.Tests;

/// <summary>The real all-MiniLM-L6-v2 model shipped in the package, on a handful of sentences.</summary>
public sealed class MiniLmTextEmbedderTests
{
    [Fact]
    public void Sentences_alike_in_meaning_are_closer_than_unrelated_ones()
    {
        using var embedder = new MiniLmTextEmbedder();
        var cat = embedder.Embed("The cat sat on the mat.");
        var kitten = embedder.Embed("A kitten is sitting on a rug.");
        var markets = embedder.Embed("Stock markets fell sharply after the interest rate decision.");

        Assert.Equal(384, cat.Length);
        Assert.Equal(embedder.Dimension, cat.Length);
        Assert.Equal(1.0, Math.Sqrt(cat.Sum(x => (double)x * x)), 3);
        Assert.True(Dot(cat, kitten) > Dot(cat, markets) + 0.2, $"cat·kitten {Dot(cat, kitten):0.00}, cat·markets {Dot(cat, markets):0.00}");
        Assert.Equal(cat, embedder.Embed("The cat sat on the mat."));
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
