namespace MoeMesh.Experts;

/// <summary>Names of the inference engines an expert manifest may ask for.</summary>
public static class ExpertEngines
{
    /// <summary>A whole LLM in a GGUF file, run by llama.cpp.</summary>
    public const string LlamaCpp = "llama.cpp";

    /// <summary>An ONNX model (a feed-forward expert or a small LLM), run by ONNX Runtime.</summary>
    public const string Onnx = "onnx";

    /// <summary>
    /// A Mixture-of-Experts model in a GGUF file whose backbone runs in one grain and whose routed
    /// experts run in expert shard grains spread over silos (the token path).
    /// </summary>
    public const string Moe = "moe";

    /// <summary>
    /// Answers from recorded outputs of a real model (the MMLU-Pro recordings) and takes the time
    /// the cost model predicts; used to evaluate routing on the live mesh without model weights.
    /// </summary>
    public const string Replay = "replay";

    /// <summary>Every engine name MoeMesh knows.</summary>
    public static IReadOnlyList<string> All { get; } = [LlamaCpp, Onnx, Moe, Replay];
}
