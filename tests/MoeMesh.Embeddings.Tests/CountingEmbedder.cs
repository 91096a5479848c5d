using MoeMesh.Embeddings;

namespace MoeMesh.Embeddings.Tests;

/// <summary>A deterministic test embedder that counts its calls: vector = (length, vowels, 1), normalised.</summary>
internal sealed class CountingEmbedder : ITextEmbedder
{
    public int Calls { get; private set; }

    public string ModelId => "counting-test";

    public int Dimension => 3;

    public float[] Embed(string text)
    {
        Calls++;
        var v = new float[] { text.Length, text.Count("aeiou".Contains), 1 };
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
