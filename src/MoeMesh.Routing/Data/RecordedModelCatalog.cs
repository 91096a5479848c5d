using MoeMesh.Experts;

namespace MoeMesh.Routing.Data;

/// <summary>Public size facts about one recorded model.</summary>
/// <param name="Name">The name used in the recorded data.</param>
/// <param name="TotalParameters">Total parameters; 0 when not published (cloud models).</param>
/// <param name="ActiveParameters">Parameters active per token (smaller for Mixture-of-Experts models).</param>
/// <param name="CloudOnly">True for models only reachable as a hosted API: no local weights, memory or energy.</param>
public sealed record RecordedModel(string Name, long TotalParameters, long ActiveParameters, bool CloudOnly = false)
{
    /// <summary>An expert id in the manifest format (lower-case).</summary>
    public string ExpertId => Name.ToLowerInvariant();

    /// <summary>A manifest describing the model for the cost model, quantised as <paramref name="quantization"/>.</summary>
    public ExpertManifest ToManifest(string quantization = "Q4_K_M") => new()
    {
        Id = ExpertId,
        DisplayName = Name,
        Engine = ExpertEngines.Replay,
        Quantization = quantization,
        ParameterCount = TotalParameters,
        ActiveParameterCount = ActiveParameters,
        EngineOptions = new Dictionary<string, string> { ["model"] = Name },
    };
}

/// <summary>
/// The 29 models of the recorded MMLU-Pro outputs with their published sizes, and the pools the
/// data README defines. Figures come from the README's "Model sizes" table.
/// </summary>
public static class RecordedModelCatalog
{
    private const long B = 1_000_000_000;

    /// <summary>Every model in the recording.</summary>
    public static IReadOnlyList<RecordedModel> All { get; } =
    [
        Dense("Llama-2-7b-hf", 6.7), Dense("Llama-2-13b-hf", 13.0), Dense("Llama-2-70b-hf", 69),
        Dense("Meta-Llama-3-8B", 8.0), Dense("Meta-Llama-3_1-8B", 8.0), Dense("Meta-Llama-3_1-8B-Instruct", 8.0),
        Dense("Meta-Llama-3-70B", 70.6), Dense("Meta-Llama-3_1-70B", 70.6), Dense("Meta-Llama-3_1-70B-Instruct", 70.6),
        Dense("Mistral-7B-v0.1", 7.2), Dense("Mistral-7B-v0.2-hf", 7.2), Dense("Mistral-7B-Instruct-v0.1", 7.2),
        Dense("Mistral-7B-Instruct-v0.2", 7.2), Dense("mathstral-7B", 7.2),
        Sparse("Mixtral-8x7B-v0.1", 46.7, 12.9), Sparse("Mixtral-8x7B-Instruct-v0.1", 46.7, 12.9),
        Dense("Phi-3-mini-4k-instruct", 3.8),
        Dense("Qwen1.5-7B-Chat", 7.7), Dense("Qwen1.5-72B-Chat", 72.3), Dense("Qwen1.5-110B", 111),
        Dense("Yi-6B", 6.1), Dense("Yi-6b-Chat", 6.1), Dense("Yi-34B", 34.4),
        Dense("gemma-7b", 8.5), Dense("c4ai-command-r-v01", 35),
        Sparse("jamba-1.5-large", 398, 94), Sparse("DeepSeek-Coder-V2", 236, 21),
        new RecordedModel("gemini-1.5-flash-002", 0, 0, CloudOnly: true),
        new RecordedModel("gemini-1.5-pro-002", 0, 0, CloudOnly: true),
    ];

    /// <summary>Open models that fit one edge box in 4-bit (the README's <c>edge</c> pool).</summary>
    public static IReadOnlyList<string> EdgePool { get; } =
    [
        "Meta-Llama-3_1-8B-Instruct", "Meta-Llama-3-8B", "Mistral-7B-Instruct-v0.2", "Qwen1.5-7B-Chat",
        "Yi-6b-Chat", "gemma-7b", "Phi-3-mini-4k-instruct", "mathstral-7B", "Mixtral-8x7B-Instruct-v0.1",
        "Yi-34B", "c4ai-command-r-v01", "Llama-2-13b-hf",
    ];

    /// <summary>All 29 models (the README's <c>all</c> pool).</summary>
    public static IReadOnlyList<string> AllPool { get; } = All.Select(m => m.Name).ToArray();

    /// <summary>The names of every catalogued model, for <see cref="DatasetReadOptions.KnownModels"/>.</summary>
    public static IReadOnlySet<string> KnownNames { get; } = new HashSet<string>(All.Select(m => m.Name), StringComparer.Ordinal);

    /// <summary>The pool called <paramref name="name"/> ("edge" or "all").</summary>
    public static IReadOnlyList<string> Pool(string name) => name.ToLowerInvariant() switch
    {
        "edge" => EdgePool,
        "all" => AllPool,
        _ => throw new ArgumentException($"unknown pool '{name}'; use 'edge' or 'all'", nameof(name)),
    };

    /// <summary>The catalogue entry for <paramref name="name"/>; false when the model is not catalogued.</summary>
    public static bool TryGet(string name, out RecordedModel model)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.Name, name, StringComparison.Ordinal))
            {
                model = candidate;
                return true;
            }
        }

        model = null!;
        return false;
    }

    private static RecordedModel Dense(string name, double billions) => new(name, (long)(billions * B), (long)(billions * B));

    private static RecordedModel Sparse(string name, double totalBillions, double activeBillions)
        => new(name, (long)(totalBillions * B), (long)(activeBillions * B));
}
