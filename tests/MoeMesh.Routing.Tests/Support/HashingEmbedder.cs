using MoeMesh.Routing.Data;
using MoeMesh.Routing.Text;

namespace MoeMesh.Routing.Tests.Support;

/// <summary>
/// A deterministic stand-in for a sentence embedder: hashed words, unit length. Texts sharing words
/// are close, so it exercises everything that reads vectors without loading a model.
/// </summary>
public static class HashingEmbedder
{
    public const int Dimension = 32;

    public static float[] Embed(string text)
    {
        var vector = new float[Dimension];
        foreach (var word in text.ToLowerInvariant().Split([' ', '\n', ',', '.', '?', '(', ')'], StringSplitOptions.RemoveEmptyEntries))
        {
            var hash = 2166136261u;
            foreach (var ch in word)
            {
                hash = (hash ^ ch) * 16777619u;
            }

            vector[hash % Dimension] += (hash & 0x100) == 0 ? 1 : -1;
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm == 0)
        {
            vector[0] = 1;
            return vector;
        }

        return vector.Select(v => v / norm).ToArray();
    }

    public static QuestionEmbeddings For(IEnumerable<RecordedQuestion> questions)
        => new(questions.ToDictionary(q => q.QuestionId, q => Embed(q.Question)), Dimension);
}
