namespace MoeMesh.Embeddings;

/// <summary>
/// Turns text into a dense, L2-normalised vector whose dot product with another measures how
/// alike two texts are in meaning. Routing takes the vectors; only the hosts (the eval command,
/// the silo) hold a model.
/// </summary>
public interface ITextEmbedder
{
    /// <summary>Names the model and its settings; cached vectors are keyed by it.</summary>
    string ModelId { get; }

    /// <summary>Length of every vector.</summary>
    int Dimension { get; }

    /// <summary>The embedding of <paramref name="text"/> (unit length).</summary>
    float[] Embed(string text);
}
