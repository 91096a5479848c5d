namespace MoeMesh.Routing.Text;

/// <summary>
/// Sentence embeddings of recorded questions by question id, as the host computed them (the
/// routing library takes vectors and never runs the model). Immutable; safe for concurrent use.
/// </summary>
public sealed class QuestionEmbeddings
{
    private readonly IReadOnlyDictionary<int, float[]> _vectors;

    /// <summary>Wraps <paramref name="vectors"/>; every vector must have <paramref name="dimension"/> entries.</summary>
    public QuestionEmbeddings(IReadOnlyDictionary<int, float[]> vectors, int dimension)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        foreach (var (id, vector) in vectors)
        {
            if (vector is null || vector.Length != dimension)
            {
                throw new ArgumentException($"the embedding of question {id} has {vector?.Length ?? 0} dimensions, expected {dimension}", nameof(vectors));
            }
        }

        _vectors = vectors;
        Dimension = dimension;
    }

    /// <summary>Length of every vector.</summary>
    public int Dimension { get; }

    /// <summary>Number of questions with a vector.</summary>
    public int Count => _vectors.Count;

    /// <summary>The vector of question <paramref name="questionId"/>; throws naming the id when there is none.</summary>
    public float[] Of(int questionId)
        => _vectors.TryGetValue(questionId, out var vector)
            ? vector
            : throw new KeyNotFoundException($"question {questionId} has no embedding; compute the embeddings of the data file again");

    /// <summary>The vector of question <paramref name="questionId"/>, or null.</summary>
    public float[]? TryOf(int questionId) => _vectors.TryGetValue(questionId, out var vector) ? vector : null;

    /// <summary>Only the questions <paramref name="keep"/> accepts (a training-only view for fitting).</summary>
    public QuestionEmbeddings Where(Func<int, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        return new QuestionEmbeddings(_vectors.Where(p => keep(p.Key)).ToDictionary(p => p.Key, p => p.Value), Dimension);
    }

    /// <summary>Cosine similarity of two unit vectors (their dot product).</summary>
    public static double Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"vectors of {a.Length} and {b.Length} dimensions cannot be compared");
        }

        return Dot(a, b);
    }

    /// <summary>Dot product of two vectors of equal length, vectorised.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = System.Numerics.Vector<float>.Zero;
        var width = System.Numerics.Vector<float>.Count;
        var i = 0;
        for (; i <= a.Length - width; i += width)
        {
            sum += new System.Numerics.Vector<float>(a[i..]) * new System.Numerics.Vector<float>(b[i..]);
        }

        var total = System.Numerics.Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }
}
