using MoeMesh.Inference.Moe.Execution;

namespace MoeMesh.Inference.Moe.Oracle;

/// <summary>How MoeMesh's output compares with llama.cpp's on the same model and prompt.</summary>
/// <param name="MaxAbsLogitDiffRatio">max |Δlogit| over every position and token, over max |logit| of llama.cpp.</param>
/// <param name="Top1Agreement">Fraction of prompt positions whose argmax token is the same.</param>
/// <param name="GreedyIdentical">True when the greedy continuations are identical.</param>
/// <param name="FirstGreedyDifference">Index of the first differing continuation token, or -1.</param>
/// <param name="MoeMeshContinuation">MoeMesh's greedy continuation.</param>
/// <param name="LlamaCppContinuation">llama.cpp's greedy continuation.</param>
public sealed record MoeOracleReport(
    double MaxAbsLogitDiffRatio,
    double Top1Agreement,
    bool GreedyIdentical,
    int FirstGreedyDifference,
    int[] MoeMeshContinuation,
    int[] LlamaCppContinuation)
{
    /// <summary>The oracle's bar: max |Δlogit| ≤ 1e-3 × max |logit|, top-1 equal everywhere, identical greedy continuation.</summary>
    public bool Passes => MaxAbsLogitDiffRatio <= 1e-3 && Top1Agreement == 1.0 && GreedyIdentical;
}

/// <summary>Runs MoeMesh and llama.cpp on the same prompt and compares every position's logits and the greedy continuation.</summary>
public static class MoeOracleComparison
{
    /// <summary>Compares <paramref name="model"/> with <paramref name="oracle"/> on <paramref name="prompt"/> and a <paramref name="continuation"/>-token greedy run.</summary>
    public static MoeOracleReport Compare(MoeMonolithicModel model, LlamaCppMoeOracle oracle, ReadOnlySpan<int> prompt, int continuation)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(oracle);
        var vocabulary = model.Shape.VocabularySize;
        if (oracle.VocabularySize != vocabulary)
        {
            throw new ArgumentException($"llama.cpp sees {oracle.VocabularySize} tokens; MoeMesh sees {vocabulary}.", nameof(oracle));
        }

        var ours = model.EvaluateAll(prompt);
        var mine = model.Greedy(prompt, continuation);
        return Compare(ours, mine, oracle, prompt);
    }

    /// <summary>
    /// Compares logits of every prompt position (<paramref name="prompt"/> length × vocabulary) and a greedy
    /// continuation that MoeMesh produced anywhere (one process, or its shards over silos) with llama.cpp's
    /// on the same prompt; llama.cpp generates as many tokens as <paramref name="continuation"/> holds.
    /// </summary>
    public static MoeOracleReport Compare(ReadOnlySpan<float> promptLogits, int[] continuation, LlamaCppMoeOracle oracle, ReadOnlySpan<int> prompt)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(oracle);
        var vocabulary = oracle.VocabularySize;
        if (promptLogits.Length != prompt.Length * vocabulary)
        {
            throw new ArgumentException($"Expected {prompt.Length} × {vocabulary} logits (llama.cpp's vocabulary), got {promptLogits.Length}.", nameof(promptLogits));
        }

        var theirs = oracle.EvaluateAll(prompt);
        double maxDiff = 0, maxLogit = 0;
        var agree = 0;
        for (var position = 0; position < prompt.Length; position++)
        {
            var a = promptLogits.Slice(position * vocabulary, vocabulary);
            var b = theirs.AsSpan(position * vocabulary, vocabulary);
            for (var v = 0; v < vocabulary; v++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(a[v] - b[v]));
                maxLogit = Math.Max(maxLogit, Math.Abs(b[v]));
            }

            agree += LlamaCppMoeOracle.ArgMax(a) == LlamaCppMoeOracle.ArgMax(b) ? 1 : 0;
        }

        var reference = oracle.Greedy(prompt, continuation.Length);
        var first = Enumerable.Range(0, continuation.Length).FirstOrDefault(i => continuation[i] != reference[i], -1);
        return new MoeOracleReport(maxLogit > 0 ? maxDiff / maxLogit : maxDiff, (double)agree / prompt.Length, first < 0, first, continuation, reference);
    }
}
